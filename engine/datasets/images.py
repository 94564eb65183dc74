"""Checking that dataset images decode, hashing them, and the per-image rows of the `images` table.

One read per image does everything: the sha256 of the bytes (the image's identity), a decode at
reduced size (JPEG draft mode, so truncated or corrupt files are caught for about a millisecond
each) and the colour statistics of a small thumbnail.

Colour statistics, computed on a thumbnail of at most 64 px a side, in [0, 1] unless noted:
- brightness: mean luma Y' = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), divided by 255;
- saturation: mean HSV saturation (max - min) / max per pixel (0 for black pixels);
- colorfulness: Hasler & Suesstrunk (2003), "Measuring colourfulness in natural images", Proc. SPIE
  5007, metric M^(3): with rg = R - G and yb = (R + G) / 2 - B on the 0-255 scale,
  M = sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2) (about 0-150; > 60 is
  "quite colourful" in their scale).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.datasets.base import Dataset
from engine.preprocess import ImageError, read_image_bytes, to_rgb

__all__ = ["ImageInfo", "inspect_image", "inspect_many", "colour_stats", "image_rows"]

STATS_SIDE = 64
_INFO: dict[str, "ImageInfo"] = {}  # by sha256: what a load already measured, reused by image_rows


@dataclass(frozen=True)
class ImageInfo:
    """One row of the `images` table."""

    image_sha256: str
    format: str | None
    width: int
    height: int
    mode: str
    n_bytes: int
    brightness: float | None = None
    saturation: float | None = None
    colorfulness: float | None = None


def colour_stats(rgb: Image.Image) -> tuple[float, float, float]:
    """(brightness, saturation, colorfulness) of an RGB image; definitions in the module docstring."""
    pixels = np.asarray(rgb.convert("RGB"), dtype=np.float32).reshape(-1, 3)
    if pixels.size == 0:
        return float("nan"), float("nan"), float("nan")
    red, green, blue = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    brightness = (0.299 * red.mean() + 0.587 * green.mean() + 0.114 * blue.mean()) / 255.0  # mean is linear
    high, low = pixels.max(axis=1), pixels.min(axis=1)
    saturation = np.divide(high - low, high, out=np.zeros_like(high), where=high > 0).mean()
    rg = red - green
    yb = 0.5 * (red + green) - blue
    colorfulness = np.sqrt(rg.var() + yb.var()) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(brightness), float(saturation), float(colorfulness)


def inspect_image(path: Path, *, decode: bool = True, label: str | None = None) -> ImageInfo:
    """Hash and check one image file by its content (never its extension); raises ImageError.

    `decode=True` decodes a reduced-size copy, which catches truncated and corrupt files and gives
    the colour statistics; `decode=False` reads only the header (Pillow `verify()`).
    """
    name = label or str(path)
    data = read_image_bytes(path, name)
    sha = hashlib.sha256(data).hexdigest()
    known = _INFO.get(sha)
    if known is not None and (known.brightness is not None or not decode):
        return known
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > Image.MAX_IMAGE_PIXELS:
            raise ImageError(name, f"{width}x{height} pixels exceeds Pillow's decompression-bomb limit of "
                                   f"{Image.MAX_IMAGE_PIXELS:,}; shrink the image")
        fmt, mode = image.format, image.mode
        stats: tuple[float | None, ...] = (None, None, None)
        if decode:
            image.draft(None, (1, 1))  # JPEG: decode at 1/8 scale (every byte is still entropy-decoded)
            image.load()
            thumb = to_rgb(image)
            thumb.thumbnail((STATS_SIDE, STATS_SIDE))
            stats = colour_stats(thumb)
        else:
            image.verify()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(name, f"refused as a possible decompression bomb ({exc}); shrink the image") from None
    except UnidentifiedImageError:
        raise ImageError(name, f"is not an image (its bytes start {data[:12]!r}); replace it with a JPEG "
                               "or PNG, or drop the row") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise ImageError(name, f"does not decode: truncated or corrupt ({exc}); re-download or "
                               "re-export it") from None
    info = ImageInfo(sha, fmt, width, height, mode, len(data), *stats)
    _INFO[sha] = info
    return info


def inspect_many(paths: Iterable[Path], *, decode: bool = True, labels: Iterable[str] | None = None,
                 workers: int | None = None) -> list[ImageInfo | ImageError]:
    """`inspect_image` over many files on a thread pool; failures come back in place as ImageError."""
    jobs = list(zip(paths, labels)) if labels is not None else [(p, None) for p in paths]

    def one(job: tuple[Path, str | None]) -> ImageInfo | ImageError:
        try:
            return inspect_image(job[0], decode=decode, label=job[1])
        except ImageError as exc:
            return exc

    workers = workers or min(8, (os.cpu_count() or 2) + 1)
    if workers <= 1 or len(jobs) <= 1:
        return [one(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, jobs))


def image_rows(dataset: Dataset, workers: int | None = None) -> list[dict]:
    """One `images` row per distinct image of `dataset` (format, size, mode, bytes, colour statistics).

    Uses what loading already measured; images loaded without decoding are decoded now. Images that
    fail are left out (their items were reported when the dataset loaded).
    """
    todo: dict[str, Path] = {}
    rows: dict[str, dict] = {}
    for item in dataset.items:
        path = dataset.image_file(item)
        if path is None:
            continue
        known = _INFO.get(item.image_sha256 or "")
        if known is not None and known.brightness is not None:
            rows.setdefault(known.image_sha256, asdict(known))
        elif item.image_sha256 not in rows:
            todo.setdefault(item.image_sha256 or str(path), path)
    for result in inspect_many(todo.values(), workers=workers):
        if isinstance(result, ImageInfo):
            rows.setdefault(result.image_sha256, asdict(result))
    return list(rows.values())
