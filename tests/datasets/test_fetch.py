"""`datasets fetch` against a loopback HTTP server started here (never the internet): resume after a
truncated transfer, checksum verification, unknown checksums, safe unpacking, refusals."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from datasets_fixtures import write_image

from engine.cli.main import main
from engine.datasets import load_dataset
from engine.datasets.fetch import FetchError, fetch_dataset


class Files:
    """What the server serves, what it was asked, and whether to cut the next transfer short."""

    def __init__(self):
        self.content: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.truncate_next = False


@pytest.fixture
def server():
    files = Files()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):  # noqa: N802
            files.requests.append((self.path, self.headers.get("Range")))
            data = files.content.get(self.path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = 0
            if self.headers.get("Range"):
                start = int(self.headers["Range"].split("=")[1].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if files.truncate_next:
                files.truncate_next = False
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    files.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield files
    httpd.shutdown()
    httpd.server_close()


def _emotion6_zip(tmp_path) -> bytes:
    """An Emotion6-layout archive (one top-level folder) with two images and the original ground truth."""
    buffer = io.BytesIO()
    header = "[image_filename]\t[valence]\t[arousal]\t[prob. anger]\t[prob. disgust]\t[prob. fear]\t[prob. joy]\t" \
             "[prob. sadness]\t[prob. surprise]\t[prob. neutral]"
    rows = ["joy/1.jpg\t7.1\t5.0\t0\t0\t0\t0.8\t0\t0.1\t0.1", "fear/2.jpg\t2.0\t6.5\t0\t0.1\t0.7\t0\t0.2\t0\t0"]
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("Emotion6/ground_truth.txt", "\n".join([header, *rows]) + "\n")
        for name, colour in (("joy/1.jpg", (250, 200, 0)), ("fear/2.jpg", (20, 20, 60))):
            bundle.writestr(f"Emotion6/images/{name}", write_image(tmp_path / "src" / name, colour).read_bytes())
    return buffer.getvalue()


def test_truncated_transfer_resumes_with_range_then_verifies_and_unpacks(server, tmp_path):
    archive = _emotion6_zip(tmp_path)
    server.content["/Emotion6.zip"] = archive
    server.truncate_next = True
    target = tmp_path / "Emotion6"
    url = server.base + "/Emotion6.zip"
    digest = hashlib.sha256(archive).hexdigest()
    with pytest.raises(FetchError, match="stopped after .* rerun the same command to resume"):
        fetch_dataset("emotion6", target, url=url, sha256=digest)
    part = target / ".download" / "Emotion6.zip.part"
    assert 0 < part.stat().st_size < len(archive)
    result = fetch_dataset("emotion6", target, url=url, sha256=digest)
    assert server.requests[-1] == ("/Emotion6.zip", f"bytes={len(archive) // 2}-")
    assert result.resumed_from == len(archive) // 2 and result.sha256 == digest and result.verified
    assert sorted(result.installed) == ["ground_truth.txt", "images/fear/2.jpg", "images/joy/1.jpg"]
    assert not (target / ".download").exists()
    ds = load_dataset("emotion6", path=target)  # the loader's layout, top-level folder stripped
    assert {i.item_id: i.gold["emotion"].label for i in ds.items} == {"joy/1.jpg": "joy", "fear/2.jpg": "fear"}


def test_wrong_checksum_removes_the_download_and_installs_nothing(server, tmp_path):
    server.content["/Emotion6.zip"] = _emotion6_zip(tmp_path)
    target = tmp_path / "e6"
    with pytest.raises(FetchError, match="does not match the expected 0000.*nothing was installed"):
        fetch_dataset("emotion6", target, url=server.base + "/Emotion6.zip", sha256="0" * 64)
    assert not (target / "ground_truth.txt").exists()
    assert not list((target / ".download").iterdir())
    with pytest.raises(FetchError, match="not 64 hexadecimal digits"):
        fetch_dataset("emotion6", target, url=server.base + "/Emotion6.zip", sha256="abc")


def test_unknown_checksum_is_not_installed_until_given_or_no_verify(server, tmp_path, capsys):
    labels = b"Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
    server.content["/fer2013new.csv"] = labels
    target = tmp_path / "FERPlus"
    url = server.base + "/fer2013new.csv"
    digest = hashlib.sha256(labels).hexdigest()
    assert main(["datasets", "fetch", "ferplus", "--to", str(target), "--url", url]) == 2
    err = capsys.readouterr().err
    assert f"sha256 {digest}" in err and "not installed" in err and f"--sha256 {digest}" in err
    assert not (target / "fer2013new.csv").exists()
    asked = len(server.requests)
    assert main(["datasets", "fetch", "ferplus", "--to", str(target), "--url", url, "--sha256", digest]) == 0
    out = capsys.readouterr().out
    assert len(server.requests) == asked  # verified the file already downloaded; nothing fetched again
    assert (target / "fer2013new.csv").read_bytes() == labels
    assert f"config entry: {{name: ferplus, path: {target}}}" in out
    other = tmp_path / "unverified"
    assert main(["datasets", "fetch", "ferplus", "--to", str(other), "--url", url, "--no-verify"]) == 0
    captured = capsys.readouterr()
    assert "WITHOUT checksum verification" in captured.err and "(NOT verified)" in captured.out


def test_registry_size_mismatch_and_http_errors(server, tmp_path):
    # the registry knows fer2013new.csv's size (1,602,762 bytes): a different file is refused
    server.content["/FERPlus/master/fer2013new.csv"] = b"x" * 10
    with pytest.raises(FetchError, match="404"):
        fetch_dataset("ferplus", tmp_path / "a", url=server.base + "/missing.csv", sha256="0" * 64)
    from engine.datasets import sources
    real = sources.SOURCES["ferplus"]
    sources.SOURCES["ferplus"] = sources.Source("ferplus", "public", real.page,
                                                url=server.base + "/FERPlus/master/fer2013new.csv", size=real.size,
                                                unpack="none")
    try:
        with pytest.raises(FetchError, match="has 10 bytes, the release has 1602762"):
            fetch_dataset("ferplus", tmp_path / "b")
    finally:
        sources.SOURCES["ferplus"] = real


def test_archive_member_leaving_the_target_is_refused(server, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("ok.txt", "fine")
        bundle.writestr("../escape.txt", "no")
    data = buffer.getvalue()
    server.content["/evil.zip"] = data
    with pytest.raises(FetchError, match="would leave"):
        fetch_dataset("emotion6", tmp_path / "t", url=server.base + "/evil.zip", sha256=hashlib.sha256(data).hexdigest())
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "t" / "ok.txt").exists()


def test_request_form_sets_are_refused_with_where_to_ask(capsys):
    for name, where in (("fi", "qzyou.github.io"), ("emoset", "vcc.tech/EmoSet"),
                        ("affectnet", "mohammadmahoor.com/affectnet"), ("rafdb", "whdeng.cn/RAF")):
        assert main(["datasets", "fetch", name]) == 2
        err = capsys.readouterr().err
        assert "on request" in err and where in err
    assert main(["datasets", "fetch", "fer2013"]) == 2
    assert "needs an account" in capsys.readouterr().err
    assert main(["datasets", "fetch", "nosuchset"]) == 2
    assert "no download is registered for 'nosuchset'" in capsys.readouterr().err


def test_tar_archive_from_a_given_url_and_links_refused(server, tmp_path):
    import tarfile

    def tar(members: dict[str, bytes], link: str | None = None) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                bundle.addfile(info, io.BytesIO(data))
            if link:
                info = tarfile.TarInfo("twitter/evil")
                info.type, info.linkname = tarfile.SYMTYPE, link
                bundle.addfile(info)
        return buffer.getvalue()

    good = tar({"twitter/groundTruthLabel.txt": b"Image\tSentiment\r\n1.jpg\tpositive\r\n",
                "twitter/partition1/1.jpg": write_image(tmp_path / "1.jpg").read_bytes()})
    server.content["/twitter.tar.gz"] = good
    # a set with only a download page: fetch works once the user gives a direct link
    result = fetch_dataset("twitter2", tmp_path / "t2", url=server.base + "/twitter.tar.gz",
                           sha256=hashlib.sha256(good).hexdigest())
    assert sorted(result.installed) == ["groundTruthLabel.txt", "partition1/1.jpg"]
    assert [i.item_id for i in load_dataset("twitter2", path=tmp_path / "t2").items] == ["1.jpg"]
    evil = tar({"twitter/a.txt": b"x"}, link="/etc/passwd")
    server.content["/evil.tar.gz"] = evil
    with pytest.raises(FetchError, match="is a link; the archive is refused"):
        fetch_dataset("twitter2", tmp_path / "t3", url=server.base + "/evil.tar.gz",
                      sha256=hashlib.sha256(evil).hexdigest())
    assert not (tmp_path / "t3" / "a.txt").exists()  # checked before anything was written
