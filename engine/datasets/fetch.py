"""`affectlens datasets fetch NAME`: download a public release, verify it, unpack it into the loader's layout.

- Resumable: bytes arrive in `<to>/.download/<file>.part`; a rerun asks the server for the rest with an
  HTTP `Range` header (a server that ignores it sends everything again, and the part is restarted).
  A transfer that stops early keeps its part and says to rerun.
- Verified: the size (where known) and the sha256 -- the registry's, or `--sha256` -- must match, else
  the download is deleted and nothing is installed. Without any known checksum the file is kept but not
  installed: its sha256 is printed, to compare with the official one and rerun with `--sha256`
  (nothing is downloaded again), or `--no-verify` to install it unverified with a warning.
- Unpacked safely: zip and tar members may not leave the target folder (absolute paths, `..`, links);
  an archive whose members all sit in one top-level folder is unpacked from inside that folder, so
  `path:` is the target folder itself.
Sets behind a request form, a page or an account are refused with where to get them (`sources.py`).
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from engine.datasets.sources import Source, get_source
from engine.errors import AffectLensError

__all__ = ["FetchError", "FetchResult", "fetch_dataset"]

CHUNK = 1 << 16


class FetchError(AffectLensError):
    """A download that could not be completed, verified or unpacked; the message says what to do."""


@dataclass
class FetchResult:
    name: str
    target: Path
    file: str
    sha256: str
    size: int
    resumed_from: int = 0
    verified: bool = True
    installed: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, part: Path, timeout: float) -> int:
    """Fill `part` from `url`, resuming from its current size; returns the byte it resumed from."""
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "affectlens-fetch",
                                                   **({"Range": f"bytes={start}-"} if start else {})})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http/https only, checked)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # nothing left to send: the part is complete
            return start
        raise FetchError(f"{url} answered HTTP {exc.code} {exc.reason}; check the URL (or pass --url)") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"cannot reach {url} ({getattr(exc, 'reason', exc)}); check the network and rerun "
                         "(a partial download resumes)") from None
    with response:
        resumed = start if response.status == 206 else 0
        expected = response.headers.get("Content-Length")
        expected = int(expected) if expected and expected.isdigit() else None
        received = 0
        with part.open("ab" if resumed else "wb") as handle:
            try:
                while block := response.read(CHUNK):
                    handle.write(block)
                    received += len(block)
            except (OSError, http.client.HTTPException) as exc:  # IncompleteRead is an HTTPException
                raise FetchError(f"the transfer of {url} stopped after {resumed + received} bytes ({exc}); rerun the "
                                 "same command to resume") from None
    if expected is not None and received < expected:
        raise FetchError(f"the transfer of {url} stopped after {resumed + received} of {resumed + expected} bytes; "
                         "rerun the same command to resume")
    return resumed


def _members_root(names: list[str]) -> str | None:
    tops = {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 or n.endswith("/") for n in names):
        return tops.pop()
    return None


def _safe(name: str, strip: str | None, target: Path) -> Path | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        raise FetchError(f"the archive member {name!r} would leave {target}; the archive is refused")
    parts = path.parts[1:] if strip else path.parts
    return target.joinpath(*parts) if parts else None


def _unpack(archive: Path, kind: str, target: Path) -> list[str]:
    installed = []
    if kind == "zip":
        with zipfile.ZipFile(archive) as bundle:
            names = bundle.namelist()
            strip = _members_root(names)
            for name in names:  # every member is checked before anything is written
                _safe(name, strip, target)
            for info in bundle.infolist():
                out = _safe(info.filename, strip, target)
                if out is None or info.is_dir():
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, out.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                installed.append(out.relative_to(target).as_posix())
    else:
        with tarfile.open(archive) as bundle:
            members = bundle.getmembers()
            strip = _members_root([m.name for m in members])
            for member in members:  # every member is checked before anything is written
                if member.issym() or member.islnk():
                    raise FetchError(f"the archive member {member.name!r} is a link; the archive is refused")
                _safe(member.name, strip, target)
            for member in members:
                out = _safe(member.name, strip, target)
                if out is None or not member.isfile():
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with bundle.extractfile(member) as source, out.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                installed.append(out.relative_to(target).as_posix())
    return installed


def _kind(source: Source, filename: str) -> str:
    if source.unpack != "auto":
        return source.unpack
    lower = filename.lower()
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        return "tar"
    return "none"


def fetch_dataset(name: str, to: str | Path | None = None, *, url: str | None = None, sha256: str | None = None,
                  no_verify: bool = False, timeout: float = 60.0, warn=print) -> FetchResult:
    """Download, verify and unpack dataset `name` into `to` (default `datasets/<name>`); see the module doc."""
    source = get_source(name)
    if source is None:
        from engine.datasets.sources import SOURCES
        raise FetchError(f"no download is registered for {name!r}; fetch knows: {', '.join(sorted(SOURCES))}")
    if url is None and not source.downloadable:
        how = {"request": "is distributed on request (a licence agreement or request form)",
               "account": "needs an account on the distributing site", "page": "has no direct download link here"}
        raise FetchError(f"{name} {how.get(source.access, 'cannot be fetched')}: get it at {source.page} "
                         f"({source.note}); then point path: at the unpacked folder"
                         + (", or pass --url with a direct link to the file" if source.access == "page" else ""))
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise FetchError(f"--url {url!r} must start with http:// or https://")
        source = replace(source, url=url, sha256=None if source.url != url else source.sha256,
                         size=None if source.url != url else source.size)
    expected_sha = (sha256 or source.sha256 or "").lower() or None
    if expected_sha is not None and (len(expected_sha) != 64 or any(c not in "0123456789abcdef" for c in expected_sha)):
        raise FetchError(f"--sha256 {sha256!r} is not 64 hexadecimal digits")
    target = Path(to) if to is not None else Path("datasets") / name
    download = target / ".download"
    download.mkdir(parents=True, exist_ok=True)
    filename = source.filename or PurePosixPath(urllib.parse.urlparse(source.url).path).name or f"{name}.download"
    complete, part = download / filename, download / f"{filename}.part"
    resumed = 0
    if not complete.exists():
        resumed = _download(source.url, part, timeout)
        part.replace(complete)
    size = complete.stat().st_size
    if source.size is not None and size != source.size:
        complete.unlink()
        raise FetchError(f"{filename} has {size} bytes, the release has {source.size}; the download was removed; "
                         "rerun to download it again, or check --url")
    digest = _sha256(complete)
    verified = True
    if expected_sha is not None and digest != expected_sha:
        complete.unlink()
        raise FetchError(f"{filename}: sha256 {digest} does not match the expected {expected_sha}; the download was "
                         "removed and nothing was installed (a changed or corrupt file, or the wrong --url)")
    if expected_sha is None:
        if not no_verify:
            raise FetchError(f"{filename} was downloaded ({size} bytes, sha256 {digest}) but no official checksum is "
                             f"known here, so it was not installed. Compare it with the checksum the release "
                             f"publishes, then rerun with --sha256 {digest} (nothing is downloaded again), or "
                             "with --no-verify to install it unverified")
        warn(f"warning: installing {filename} WITHOUT checksum verification (--no-verify); sha256 {digest}")
        verified = False
    kind = _kind(source, filename)
    if kind == "none":
        out = target / filename
        shutil.move(str(complete), out)
        installed = [filename]
    else:
        try:
            installed = _unpack(complete, kind, target)
        except (zipfile.BadZipFile, tarfile.TarError) as exc:
            raise FetchError(f"{filename} is not a readable {kind} archive ({exc}); delete {complete} and rerun") from None
        complete.unlink()
    if not any(download.iterdir()):
        download.rmdir()
    return FetchResult(name, target, filename, digest, size, resumed, verified, installed)
