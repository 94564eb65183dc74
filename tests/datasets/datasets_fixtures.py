"""Small generated images and label files for the loader tests."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

COLOURS = [(200, 40, 40), (40, 160, 60), (30, 60, 200), (220, 200, 40), (120, 120, 120), (250, 250, 250)]


def write_image(path: Path, colour=(200, 40, 40), size=(24, 16), fmt: str = "JPEG", mode: str = "RGB") -> Path:
    """A small solid-colour image at `path` (folders created); `fmt` decides the bytes, not the name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, fmt)
    return path


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def images(root: Path, *names: str) -> list[Path]:
    """Write distinct solid-colour images under `root` (format from each name's suffix)."""
    out = []
    for index, name in enumerate(names):
        fmt = {"png": "PNG", "webp": "WEBP", "bmp": "BMP"}.get(name.rsplit(".", 1)[-1].lower(), "JPEG")
        out.append(write_image(root / name, COLOURS[index % len(COLOURS)], size=(24 + index, 16), fmt=fmt))
    return out
