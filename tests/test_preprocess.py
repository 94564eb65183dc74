"""prepare_image / prepare_many on a bad-image corpus generated here with Pillow, item by item."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from engine.models.base import ImagePart
from engine.preprocess import ImageCache, ImageError, prepare_image, prepare_many, to_rgb


def decode(part: ImagePart) -> Image.Image:
    assert part.mime == "image/jpeg"
    image = Image.open(io.BytesIO(part.data))
    assert image.format == "JPEG" and image.mode == "RGB"
    return image


def noise(size=(64, 48), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8))


def scene(size=(2000, 1000)) -> Image.Image:
    """A smooth picture (colour gradients and blocks), so that resampling filters agree closely."""
    x = np.linspace(0, 1, size[0])[None, :]
    y = np.linspace(0, 1, size[1])[:, None]
    pixels = np.stack([255 * x * np.ones_like(y), 255 * y * np.ones_like(x), 255 * (1 - x) * (1 - y)], axis=-1)
    pixels[size[1] // 4: size[1] // 2, size[0] // 4: size[0] // 2] = (250, 250, 20)
    return Image.fromarray(pixels.astype(np.uint8))


def save(image: Image.Image, path: Path, fmt: str, **kw) -> Path:
    image.save(path, fmt, **kw)
    return path


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A tiny valid PNG whose header claims width x height (CRC recomputed), as decompression bombs do."""
    buffer = io.BytesIO()
    Image.new("1", (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def corpus(tmp_path) -> dict[str, Path]:
    full = save(noise((400, 300)), tmp_path / "full.jpg", "JPEG", quality=90)
    files = {
        "truncated": tmp_path / "truncated.jpg",
        "empty": tmp_path / "empty.jpg",
        "text": tmp_path / "notes.png",
        "cmyk": save(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", "JPEG", quality=95),
        "sixteen": save(Image.fromarray(np.tile(np.array([0, 32896, 65535], dtype=np.uint16), (20, 10))),
                        tmp_path / "sixteen.png", "PNG"),
        "palette_alpha": tmp_path / "palette.png",
        "rgba": save(Image.new("RGBA", (30, 20), (255, 0, 0, 0)), tmp_path / "rgba.png", "PNG"),
        "la": save(Image.new("LA", (30, 20), (0, 255)), tmp_path / "la.png", "PNG"),
        "bilevel": save(Image.new("1", (30, 20), 1), tmp_path / "bilevel.png", "PNG"),
        "float": save(Image.fromarray(np.full((10, 10), 0.5, dtype=np.float32), "F"), tmp_path / "float.tiff",
                      "TIFF"),
        "bomb": bomb_png(tmp_path / "bomb.png", 100_000, 100_000),
        "large": save(scene(), tmp_path / "large.jpg", "JPEG", quality=85),
        "missing": tmp_path / "missing.jpg",
    }
    files["truncated"].write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    files["empty"].write_bytes(b"")
    files["text"].write_text("image,label\na.jpg,joy\n")
    palette = Image.new("P", (20, 10), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (10, 0, 20, 10))  # right half index 1 (blue), left half index 0 (transparent)
    palette.save(files["palette_alpha"], "PNG", transparency=0)
    rotated = Image.new("RGB", (40, 20), (0, 0, 255))
    rotated.paste((255, 0, 0), (0, 0, 20, 20))  # left half red as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    files["rotated"] = save(rotated, tmp_path / "rotated.jpg", "JPEG", exif=exif, quality=95)
    return files


def test_bad_files_become_item_errors_naming_the_file(corpus):
    expectations = {
        "truncated": "truncated or corrupt", "empty": "empty file", "text": "not an image",
        "bomb": "decompression bomb", "missing": "file not found",
    }
    for key, phrase in expectations.items():
        with pytest.raises(ImageError) as info:
            prepare_image(corpus[key], cache=False)
        assert phrase in str(info.value), key
        assert str(info.value).startswith(str(corpus[key])), key
        assert info.value.source == str(corpus[key])


def test_every_mode_comes_out_as_rgb_jpeg(corpus):
    cmyk = np.asarray(decode(prepare_image(corpus["cmyk"], cache=False))).astype(int)
    assert cmyk[..., 0].mean() > 200 and cmyk[..., 1].mean() < 50 and cmyk[..., 2].mean() < 50  # red
    grey = np.asarray(decode(prepare_image(corpus["sixteen"], cache=False))).astype(int)[..., 0]
    assert Image.open(corpus["sixteen"]).mode.startswith("I")
    assert abs(grey[:, 0].mean() - 0) < 8 and abs(grey[:, 1].mean() - 128) < 8 and abs(grey[:, 2].mean() - 255) < 8
    palette = np.asarray(decode(prepare_image(corpus["palette_alpha"], cache=False))).astype(int)
    assert (palette[:, :8] > 235).all()  # transparent half composited over white
    assert palette[:, 12:, 2].mean() > 200 and palette[:, 12:, 0].mean() < 50  # opaque half stays blue
    assert (np.asarray(decode(prepare_image(corpus["rgba"], cache=False))) > 245).all()  # alpha 0 -> white
    assert (np.asarray(decode(prepare_image(corpus["la"], cache=False))) < 10).all()  # opaque black
    assert (np.asarray(decode(prepare_image(corpus["bilevel"], cache=False))) > 245).all()
    half = np.asarray(decode(prepare_image(corpus["float"], cache=False))).astype(int)
    assert abs(half.mean() - 128) < 3  # 0.5 in a [0, 1] float image


def test_exif_orientation_is_applied_like_pillow_exif_transpose(corpus):
    out = decode(prepare_image(corpus["rotated"], cache=False))
    reference = ImageOps.exif_transpose(Image.open(corpus["rotated"])).convert("RGB")
    assert out.size == reference.size == (20, 40)
    ours, theirs = np.asarray(out).astype(int), np.asarray(reference).astype(int)
    assert np.abs(ours - theirs).mean() < 6
    assert ours[:15, :, 0].mean() > 200 and ours[25:, :, 2].mean() > 200  # red on top after rotating
    assert 0x0112 not in out.getexif()  # never rotated twice


def test_downscale_to_longest_side(corpus):
    out = decode(prepare_image(corpus["large"], max_side=768, cache=False))
    assert out.size == (768, 384)
    reference = Image.open(corpus["large"]).convert("RGB").resize((768, 384), Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(out).astype(int) - np.asarray(reference).astype(int)).mean() < 3
    assert decode(prepare_image(corpus["large"], max_side=100, cache=False)).size == (100, 50)


def test_pixel_limit_is_configurable(corpus):
    with pytest.raises(ImageError, match="exceeds the limit of 1,000"):
        prepare_image(corpus["large"], max_pixels=1000, cache=False)


def test_fitting_jpeg_is_sent_unchanged_but_without_metadata(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPS latitude
    source = save(noise((120, 80)), tmp_path / "photo.jpg", "JPEG", quality=90, exif=exif)
    part = prepare_image(source, cache=False)
    assert len(part.data) < source.stat().st_size and b"CameraMaker" not in part.data
    assert not dict(Image.open(io.BytesIO(part.data)).getexif())
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(part.data))), np.asarray(Image.open(source)))
    reencoded = prepare_image(source, cache=False, passthrough=False)
    assert reencoded.data != part.data and decode(reencoded).size == (120, 80)


def test_memory_and_disk_cache(tmp_path, corpus):
    cache = ImageCache(disk_dir=tmp_path / "cache")
    first = prepare_image(corpus["large"], cache=cache)
    assert prepare_image(corpus["large"], cache=cache) is first and cache.hits == 1
    assert list((tmp_path / "cache").rglob("*.jpg"))
    fresh = ImageCache(disk_dir=tmp_path / "cache")
    again = prepare_image(corpus["large"], cache=fresh)
    assert fresh.hits == 1 and again.data == first.data and again.sha256 == first.sha256
    other = prepare_image(corpus["large"], max_side=256, cache=fresh)
    assert fresh.misses == 1 and decode(other).size == (256, 128)
    same_bytes = prepare_image(corpus["large"].read_bytes(), cache=fresh, name="item 7")
    assert same_bytes is again  # keyed by content, not by path
    small = ImageCache(max_bytes=len(first.data) + 10)
    prepare_image(corpus["large"], cache=small)
    prepare_image(corpus["cmyk"], cache=small)
    small.clear()
    assert small.get("anything") is None


def test_prepare_many_keeps_order_and_returns_errors_in_place(corpus):
    names = ["cmyk", "truncated", "rotated", "empty", "text", "palette_alpha", "bomb", "sixteen", "large"]
    results = prepare_many([corpus[n] for n in names], workers=3, cache=False)
    assert [type(r).__name__ for r in results] == [
        "ImagePart", "ImageError", "ImagePart", "ImageError", "ImageError", "ImagePart", "ImageError",
        "ImagePart", "ImagePart"]
    assert [r.source for r in results if isinstance(r, ImageError)] == [
        str(corpus[n]) for n in ("truncated", "empty", "text", "bomb")]
    serial = prepare_many([corpus[n] for n in names], workers=1, cache=False)
    assert [r.data if isinstance(r, ImagePart) else str(r) for r in serial] == \
        [r.data if isinstance(r, ImagePart) else str(r) for r in results]


def test_bytes_input_errors_use_the_given_name():
    with pytest.raises(ImageError, match=r"^item 12: not an image"):
        prepare_image(b"GIF89a-not-really", name="item 12", cache=False)


def test_to_rgb_handles_uncommon_modes():
    for mode in ("YCbCr", "LAB", "HSV", "I", "La", "PA", "RGBa", "I;16B"):
        image = Image.new("RGBA" if mode in ("La", "PA", "RGBa") else "RGB", (4, 4), (10, 20, 30, 255))
        converted = image.convert(mode) if mode not in ("I", "I;16B") else Image.new(mode, (4, 4), 1000)
        assert to_rgb(converted).mode == "RGB", mode


def test_a_rewritten_file_is_prepared_again(tmp_path):
    cache = ImageCache()
    path = save(Image.new("RGB", (30, 20), (255, 0, 0)), tmp_path / "x.png", "PNG")
    red = prepare_image(path, cache=cache)
    assert prepare_image(path, cache=cache) is red
    save(Image.new("RGB", (31, 20), (0, 0, 255)), path, "PNG")
    blue = decode(prepare_image(path, cache=cache))
    assert blue.size == (31, 20) and np.asarray(blue)[..., 2].mean() > 200
