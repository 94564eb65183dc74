"""Images that arrive as data rather than files -- pixel values in a CSV cell (FER2013), image bytes in
a Parquet or Arrow column (Hugging Face datasets) -- written to a content-addressed cache.

Each image is stored once as `<cache>/<sha[:2]>/<sha>.<ext>`, where `sha` is the sha256 of its bytes,
i.e. the image's identity everywhere else in AffectLens; `ext` follows the content (png, jpg, ...).
Pixels are encoded as an 8-bit grey PNG; the same pixels always give the same bytes, so a second load
finds every file in place and writes nothing. The cache is `cache_dir` when given, else
`$AFFECTLENS_CACHE/pixels`, else `~/.cache/affectlens/pixels`.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import DatasetError

__all__ = ["pixel_cache", "ImageCache", "PixelWriter"]

_MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8", "jpg"), (b"GIF8", "gif"), (b"BM", "bmp"), (b"RIFF", "webp"),
          (b"II*\x00", "tif"), (b"MM\x00*", "tif"))


def pixel_cache(cache_dir: str | Path | None = None) -> Path:
    """The folder pixel images are written to (created)."""
    if cache_dir is not None:
        folder = Path(cache_dir).expanduser()
    elif os.environ.get("AFFECTLENS_CACHE"):
        folder = Path(os.environ["AFFECTLENS_CACHE"]).expanduser() / "pixels"
    else:
        folder = Path.home() / ".cache" / "affectlens" / "pixels"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the image cache {folder} ({exc}); give cache_dir: a writable folder "
                           "or set AFFECTLENS_CACHE") from None
    return folder


class ImageCache:
    """Stores image bytes by content; `written` counts the files this instance created."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.written = 0
        self._seen: set[str] = set()

    def add(self, data: bytes) -> tuple[str, str]:
        """(path relative to the cache folder, sha256) of `data`, written once."""
        sha = hashlib.sha256(data).hexdigest()
        suffix = next((ext for magic, ext in _MAGIC if data.startswith(magic)), "bin")
        relative = f"{sha[:2]}/{sha}.{suffix}"
        if sha not in self._seen:
            target = self.folder / relative
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_name(f".{sha}.{os.getpid()}.tmp")
                temporary.write_bytes(data)
                os.replace(temporary, target)  # atomic: a reader never sees half a file
                self.written += 1
            self._seen.add(sha)
        return relative, sha


class PixelWriter(ImageCache):
    """Turns one pixel cell into a cached PNG."""

    def __init__(self, folder: Path, side: int = 48):
        super().__init__(folder)
        self.side = side

    def __call__(self, cell: str, column: str = "pixels") -> tuple[str, str]:
        """(path relative to the cache, sha256); ValueError naming the cell's fault."""
        try:
            with warnings.catch_warnings():  # older numpy warns and stops early at a bad token, newer raises
                warnings.simplefilter("ignore")
                values = np.fromstring(str(cell), dtype=np.int64, sep=" ")  # 5x faster than split() + array
        except ValueError:
            values = np.zeros(0, dtype=np.int64)
        if values.size != self.side * self.side:
            parts = str(cell).split()  # the slow path, only to say exactly what is wrong
            if len(parts) != self.side * self.side:
                raise ValueError(f"column {column!r} holds {len(parts)} values, expected {self.side * self.side} "
                                 f"({self.side}x{self.side} grey pixels)")
            bad = next((p for p in parts if not p.isdigit()), parts[min(values.size, len(parts) - 1)])
            raise ValueError(f"column {column!r} holds {bad!r}, not an integer pixel value")
        if values.min() < 0 or values.max() > 255:
            raise ValueError(f"column {column!r} holds values outside 0-255 ({values.min()}..{values.max()})")
        buffer = io.BytesIO()
        Image.fromarray(values.astype(np.uint8).reshape(self.side, self.side)).save(buffer, "PNG")
        return self.add(buffer.getvalue())
