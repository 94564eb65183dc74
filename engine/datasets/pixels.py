"""Images shipped as pixel values in a CSV cell (FER2013) written as PNG files in a content-addressed cache.

Each image is encoded once as an 8-bit grey PNG and stored as `<cache>/<sha[:2]>/<sha>.png`, where
`sha` is the sha256 of the PNG bytes, i.e. the image's identity everywhere else in AffectLens. The same
pixels always give the same bytes, so a second load finds every file in place and writes nothing.
The cache is `cache_dir` when given, else `$AFFECTLENS_CACHE/pixels`, else `~/.cache/affectlens/pixels`.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import DatasetError

__all__ = ["pixel_cache", "PixelWriter"]


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


class PixelWriter:
    """Turns one pixel cell into a cached PNG; `written` counts files this writer created."""

    def __init__(self, folder: Path, side: int = 48):
        self.folder = folder
        self.side = side
        self.written = 0
        self._seen: set[str] = set()

    def __call__(self, cell: str, column: str = "pixels") -> tuple[str, str]:
        """(path relative to the cache, sha256); ValueError naming the cell's fault."""
        parts = str(cell).split()
        if len(parts) != self.side * self.side:
            raise ValueError(f"column {column!r} holds {len(parts)} values, expected {self.side * self.side} "
                             f"({self.side}x{self.side} grey pixels)")
        try:
            values = np.array(parts, dtype=np.int32)
        except ValueError:
            raise ValueError(f"column {column!r} holds a value that is not an integer") from None
        if values.min() < 0 or values.max() > 255:
            raise ValueError(f"column {column!r} holds values outside 0-255 ({values.min()}..{values.max()})")
        buffer = io.BytesIO()
        Image.fromarray(values.astype(np.uint8).reshape(self.side, self.side)).save(buffer, "PNG")
        data = buffer.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        relative = f"{sha[:2]}/{sha}.png"
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
