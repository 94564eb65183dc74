"""Turn any image file into the JPEG a model is sent: oriented, RGB, bounded in size, encoded once.

`prepare_image` applies the EXIF orientation, converts every Pillow mode to RGB (alpha is composited
over white, 16-bit and float images are rescaled to 8 bits), shrinks the longest side to `max_side`
(decoding JPEGs in draft mode, i.e. DCT-domain downscaling, where that is possible) and encodes a
JPEG. A JPEG that is already RGB, upright and small enough is sent as it is, minus its metadata
segments (EXIF with GPS positions, XMP, IPTC, comments), so it is neither decoded nor re-encoded.

Results are cached by the sha256 of the source bytes plus the settings, in memory (LRU bounded by
bytes) and optionally on disk, so an image used by several models or strategies is encoded once.

Every failure -- missing, empty, truncated or non-image file, decompression bomb, unsupported mode
-- becomes an `ImageError` naming the file and the fix; `prepare_many` returns it in the item's place
so one bad image never stops a batch.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import AffectLensError
from engine.models.base import ImagePart

__all__ = ["ImageError", "ImageCache", "prepare_image", "prepare_many", "to_rgb", "default_cache",
           "PREPROCESS_VERSION"]

#: Bumped whenever the output bytes for the same input and settings change; part of every cache key.
PREPROCESS_VERSION = "1"
WHITE = (255, 255, 255)

# EXIF orientation tag (0x0112) -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(AffectLensError):
    """One image could not be prepared; `source` names the file, the message says what to do."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


# --------------------------------------------------------------------------------------------- modes

def to_rgb(image: Image.Image, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """Any Pillow mode -> RGB. Transparency is composited over `background` (white by default).

    16-bit integer modes are scaled by 255/65535; 32-bit `I` and float `F` images are scaled by the
    range their values occupy (0-255 as is, 0-65535 as 16-bit, [0, 1] for floats, else min-max).
    """
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode.startswith("I") or mode == "F":
        return _high_depth_to_rgb(image)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image if mode == "RGBA" else _to_rgba(image)
        canvas = Image.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")  # 1, L, P, CMYK, YCbCr, LAB, HSV, RGBX


def _to_rgba(image: Image.Image) -> Image.Image:
    if image.mode == "La":  # premultiplied grey+alpha: Pillow converts it only by way of LA
        image = image.convert("LA")
    return image.convert("RGBA")


def _high_depth_to_rgb(image: Image.Image) -> Image.Image:
    values = np.asarray(image).astype(np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if image.mode.startswith("I;16"):
        scaled = values / 257.0
    elif image.mode == "F" and low >= 0 and high <= 1:
        scaled = values * 255.0
    elif low >= 0 and high <= 255:
        scaled = values
    elif low >= 0 and high <= 65535:
        scaled = values / 257.0
    else:
        scaled = (values - low) * (255.0 / (high - low or 1.0))
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey, "L").convert("RGB")


# --------------------------------------------------------------------------------------------- cache

@dataclass(frozen=True)
class _Settings:
    max_side: int
    quality: int
    passthrough: bool

    def key(self, source_sha256: str) -> str:
        text = f"{source_sha256}|{self.max_side}|{self.quality}|{int(self.passthrough)}|v{PREPROCESS_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()


class ImageCache:
    """Prepared images by key: an in-memory LRU bounded by bytes, plus an optional directory on disk.

    The disk layout is `DIR/ab/abcdef....jpg` (the key is the sha256 of the source bytes' sha256 and
    the settings), written atomically, so several processes may share one directory.
    """

    def __init__(self, max_bytes: int = 256 << 20, disk_dir: str | os.PathLike | None = None):
        self.max_bytes = max_bytes
        self.disk_dir = Path(disk_dir) if disk_dir else None
        self._memory: OrderedDict[str, ImagePart] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> ImagePart | None:
        with self._lock:
            part = self._memory.get(key)
            if part is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return part
        if self.disk_dir is not None:
            path = self._disk_path(key)
            try:
                part = ImagePart(path.read_bytes(), "image/jpeg")
            except FileNotFoundError:
                pass
            else:
                self._remember(key, part)
                self.hits += 1
                return part
        self.misses += 1
        return None

    def put(self, key: str, part: ImagePart) -> None:
        self._remember(key, part)
        if self.disk_dir is not None:
            path = self._disk_path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(part.data)
            os.replace(tmp, path)

    def clear(self) -> None:
        """Forget the in-memory entries (the disk directory is left alone)."""
        with self._lock:
            self._memory.clear()
            self._size = 0

    def _remember(self, key: str, part: ImagePart) -> None:
        with self._lock:
            if key in self._memory:
                return
            self._memory[key] = part
            self._size += len(part.data)
            while self._size > self.max_bytes and self._memory:
                _, old = self._memory.popitem(last=False)
                self._size -= len(old.data)

    def _disk_path(self, key: str) -> Path:
        assert self.disk_dir is not None
        return self.disk_dir / key[:2] / f"{key}.jpg"


_DEFAULT_CACHE = ImageCache(disk_dir=os.environ.get("AFFECTLENS_IMAGE_CACHE") or None)


def default_cache() -> ImageCache:
    """The process-wide cache (`AFFECTLENS_IMAGE_CACHE` names a disk directory for it)."""
    return _DEFAULT_CACHE


# --------------------------------------------------------------------------------------------- prepare

def prepare_image(source: str | os.PathLike | bytes, max_side: int = 768, quality: int = 90, *,
                  cache: ImageCache | None | bool = None, passthrough: bool = True,
                  max_pixels: int | None = None, name: str | None = None) -> ImagePart:
    """Read, orient, convert, shrink and encode one image as JPEG; raises `ImageError` on bad input.

    `source` is a path or the file's bytes (`name` then labels it in errors). `cache=None` uses the
    process-wide cache, `False` none. `max_pixels` defaults to Pillow's `Image.MAX_IMAGE_PIXELS`.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "<image bytes>")
    settings = _Settings(int(max_side), int(quality), bool(passthrough))
    store = _DEFAULT_CACHE if cache is None or cache is True else (cache or None)
    known = _known_source_sha256(source) if store else None
    if store and known:
        hit = store.get(settings.key(known))
        if hit is not None:
            return hit
    before = _stat_key(source)
    data = read_image_bytes(source, label)
    source_sha256 = hashlib.sha256(data).hexdigest()
    if before is not None and before == _stat_key(source):  # unchanged while it was read
        _remember_source(before, source_sha256)
    key = settings.key(source_sha256)
    if store and known != source_sha256:  # not looked up yet under this key
        hit = store.get(key)
        if hit is not None:
            return hit
    part = _encode(data, label, settings, max_pixels, source_sha256)
    if store:
        store.put(key, part)
    return part


# Path + size + mtime + inode -> sha256 of the bytes, so a cached image is found without reading the
# file again (as git's index and make do: a file rewritten with the same size within the same
# nanosecond timestamp would be missed).
_SOURCES: dict[tuple, str] = {}
_SOURCES_LOCK = threading.Lock()
_SOURCES_MAX = 200_000


def _stat_key(source) -> tuple | None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return None
    try:
        st = os.stat(source)
    except OSError:
        return None
    return (os.fspath(source), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def _known_source_sha256(source) -> str | None:
    key = _stat_key(source)
    return _SOURCES.get(key) if key is not None else None


def _remember_source(key: tuple, sha256: str) -> None:
    with _SOURCES_LOCK:
        if len(_SOURCES) >= _SOURCES_MAX:
            _SOURCES.clear()
        _SOURCES[key] = sha256


def prepare_many(sources: Iterable[str | os.PathLike | bytes], workers: int | None = None,
                 **options) -> list[ImagePart | ImageError]:
    """`prepare_image` over many sources on a thread pool; each result is an ImagePart or its ImageError.

    Pillow releases the GIL while decoding, resizing and encoding, so threads scale with cores.
    """
    items: Sequence = list(sources)
    workers = workers or min(8, (os.cpu_count() or 2) + 1)

    def one(source) -> ImagePart | ImageError:
        try:
            return prepare_image(source, **options)
        except ImageError as exc:
            return exc

    if workers <= 1 or len(items) <= 1:
        return [one(s) for s in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, items))


def read_image_bytes(source: str | os.PathLike | bytes, label: str) -> bytes:
    """The bytes of an image file (or the bytes given); a missing, unreadable or empty file is an ImageError."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise ImageError(label, "file not found; check the image path") from None
        except IsADirectoryError:
            raise ImageError(label, "is a folder, not an image file") from None
        except OSError as exc:
            raise ImageError(label, f"cannot be read ({exc.strerror or exc}); check the path's length and "
                                    "its permissions") from None
        except ValueError as exc:  # "embedded null byte": a path no file system accepts
            raise ImageError(label, f"is not a usable path ({exc}); fix the path") from None
    if not data:
        raise ImageError(label, "empty file (0 bytes); re-export or re-download the image")
    return data


def _encode(data: bytes, label: str, settings: _Settings, max_pixels: int | None,
            source_sha256: str = "") -> ImagePart:
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageError(label, f"refused as a possible decompression bomb ({exc}); shrink the image "
                                "or raise the pixel limit") from None
    except UnidentifiedImageError:
        raise ImageError(label, f"not an image Pillow can read (starts with {data[:12]!r}); "
                                "replace it with a JPEG or PNG") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(label, f"corrupt image header ({exc}); re-export the image") from None
    width, height = image.size
    if limit and width * height > limit:
        raise ImageError(label, f"{width}x{height} = {width * height:,} pixels exceeds the limit of {limit:,} "
                                "(decompression-bomb guard); shrink the image or raise max_pixels")
    try:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # a broken EXIF block is no reason to lose the image
        orientation = 1
    if settings.passthrough and _may_pass_through(image, data, settings.max_side, orientation):
        stripped = _strip_jpeg_metadata(data)
        if stripped is not None:
            same = len(stripped) == len(data)  # nothing stripped: the bytes, and so the hash, are the source's
            return ImagePart(stripped, "image/jpeg", source_sha256 if same else "")
    target = _target_size(width, height, settings.max_side)
    try:
        if target != (width, height):
            image.draft(None, target)  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still >= target
        image.load()
        rgb = to_rgb(image)
        if rgb.size != target:
            rgb = rgb.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)  # as Image.thumbnail
        if orientation in _ORIENTATION:
            rgb = rgb.transpose(_ORIENTATION[orientation])
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=settings.quality)
    except Image.DecompressionBombError as exc:
        raise ImageError(label, f"refused as a possible decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        raise ImageError(label, f"truncated or corrupt image data ({exc}); re-download or re-export "
                                "the image") from None
    return ImagePart(out.getvalue(), "image/jpeg")


def _target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _may_pass_through(image: Image.Image, data: bytes, max_side: int, orientation: int) -> bool:
    """A JPEG already fit to send: RGB, upright, small, at most ~1 byte per pixel, complete (ends in EOI)."""
    width, height = image.size
    return (image.format == "JPEG" and image.mode == "RGB" and orientation == 1
            and max(width, height) <= max_side and len(data) <= width * height
            and data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"))


# Segments dropped from passed-through JPEGs: APP1 (EXIF, XMP), APP13 (IPTC), COM. APP0 (JFIF),
# APP2 (ICC profile) and APP14 (Adobe colour transform) change how pixels decode and are kept.
_DROP_MARKERS = {0xE1, 0xED, 0xFE}


def _strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG without its metadata segments, or None where its structure is not the expected one."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            out += data[pos:]
            return bytes(out)
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return None
        if marker not in _DROP_MARKERS:
            out += data[pos:pos + 2 + length]
        pos += 2 + length
    return None
