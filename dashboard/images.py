"""Item images for the gallery: thumbnails made once per image sha256 and cached on disk, blurring, and
checks on uploaded files.

Thumbnails live in `settings.thumbnail_dir()` as `<sha256>-<size>[-blur].jpg`, so 10,000 items cost one
decode each, once, whatever store or session shows them. Paths come from the store (`datasets.root` /
`items.image_path`) and may not escape the dataset root.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from dashboard import settings

THUMBNAIL_PX = 192
DETAIL_PX = 768
BLUR_RADIUS = 18
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif",
                   "BMP": "image/bmp", "TIFF": "image/tiff"}
ALLOWED_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"]


def resolve_image(root: str | None, image_path: str | None, store: str | None = None) -> Path | None:
    """The image file of an item, or None when it is missing or would lie outside the dataset root.

    A relative root is read against the working directory first, then the store's folder.
    """
    if not image_path:
        return None
    candidates = []
    if root:
        base = Path(root)
        candidates = [base] if base.is_absolute() else [Path.cwd() / base] + ([Path(store).parent / base] if store else [])
    else:
        candidates = [Path.cwd()]
    for base in candidates:
        path = (base / image_path).resolve()
        if base.resolve() in path.parents and path.is_file():
            return path
    return None


def _jpeg_thumbnail(source, size: int, *, blur: bool = False, quality: int = 82) -> bytes:
    """`source` (a path or a file object) as an upright RGB JPEG of at most `size` pixels a side;
    transparency over white, blurred on request."""
    with Image.open(source) as image:
        image.draft("RGB", (size, size))  # JPEG decodes at a reduced scale directly
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image)
        image = image.convert("RGB")
        image.thumbnail((size, size))
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(BLUR_RADIUS * size / DETAIL_PX + 4))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True)
        return out.getvalue()


def _render(path: Path, size: int, blur: bool) -> bytes:
    return _jpeg_thumbnail(path, size, blur=blur)


def thumbnail(path: Path | None, sha256: str | None, *, size: int = THUMBNAIL_PX, blur: bool = False) -> bytes | None:
    """JPEG bytes of the image scaled to fit `size` pixels (blurred when asked), cached on disk by sha256."""
    if path is None:
        return None
    key = sha256 or hashlib.sha256(str(path).encode()).hexdigest()
    cache = settings.thumbnail_dir() / f"{key}-{size}{'-blur' if blur else ''}.jpg"
    try:
        return cache.read_bytes()
    except OSError:
        pass
    try:
        data = _render(path, size, blur)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(cache)  # atomic: concurrent sessions never read half a file
    except OSError:
        pass  # a read-only disk only loses the cache
    return data


PREVIEW_PX = 512


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    preview: bytes = b""  # a JPEG at most PREVIEW_PX on its longer side: what the browser is sent


class UploadRejected(ValueError):
    pass


def pixel_limit() -> int:
    """Most pixels an uploaded image may have: the engine's limit (Pillow's decompression-bomb guard),
    or `AFFECTLENS_MAX_UPLOAD_PIXELS` when set lower."""
    engine_limit = int(Image.MAX_IMAGE_PIXELS or 89_478_485)
    return min(engine_limit, int(settings.number("AFFECTLENS_MAX_UPLOAD_PIXELS", engine_limit)))


def check_upload(name: str, data: bytes, *, max_mb: float | None = None,
                 max_pixels: int | None = None) -> CheckedUpload:
    """Accept an uploaded file only if it is an image of an allowed type within the size and pixel limits.

    The pixel count is read from the header before anything is decoded, so an oversized image costs
    nothing; an accepted one is decoded once, at reduced scale where the format allows, into the preview.
    """
    max_mb = settings.max_upload_mb() if max_mb is None else max_mb
    max_pixels = pixel_limit() if max_pixels is None else max_pixels
    if len(data) > max_mb * 1024 * 1024:
        raise UploadRejected(f"{name} is {len(data) / 1024 / 1024:.1f} MB; the limit is {max_mb:g} MB "
                             "(set AFFECTLENS_MAX_UPLOAD_MB to change it)")
    unreadable = (OSError, UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, ValueError)
    try:
        with warnings.catch_warnings():  # the pixel limit is ours to report, below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                image_format = image.format
                width, height = image.size
    except Image.DecompressionBombError:  # over twice Pillow's limit: refused by the header alone
        raise UploadRejected(f"{name} has far more pixels than the limit of {max_pixels / 1e6:.0f} MP: "
                             "shrink it first") from None
    except unreadable as exc:
        raise UploadRejected(f"{name} is not a readable image ({exc.__class__.__name__}); "
                             f"upload one of: {', '.join(ALLOWED_EXTENSIONS)}") from None
    if image_format not in ALLOWED_FORMATS:
        raise UploadRejected(f"{name} is a {image_format} image; upload one of: {', '.join(ALLOWED_EXTENSIONS)}")
    if width * height > max_pixels:
        raise UploadRejected(f"{name} is {width}×{height} pixels ({width * height / 1e6:.0f} MP); the limit is "
                             f"{max_pixels / 1e6:.0f} MP: shrink it first")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        preview = _preview(data)
    except unreadable as exc:
        raise UploadRejected(f"{name} is not a readable image ({exc.__class__.__name__}); "
                             f"upload one of: {', '.join(ALLOWED_EXTENSIONS)}") from None
    return CheckedUpload(data, ALLOWED_FORMATS[image_format], width, height, hashlib.sha256(data).hexdigest(),
                         preview)


def _preview(data: bytes, size: int = PREVIEW_PX) -> bytes:
    return _jpeg_thumbnail(io.BytesIO(data), size, quality=85)
