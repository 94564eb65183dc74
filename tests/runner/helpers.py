"""Helpers for the runner tests: small datasets drawn on the spot, configs pointing at a loopback fake server."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from engine.datasets.files import write_csv

POLARITIES = ("positive", "negative")


def write_dataset(folder: Path, n: int, *, bad: dict[int, bytes] | None = None) -> Path:
    """`n` distinct small JPEGs and a manifest (item_id, image, polarity, split=test); `bad` replaces
    item i's file with the given bytes. Returns the manifest path."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        name = f"images/item-{i:03d}.jpg"
        image = Image.new("RGB", (48, 48), (40 + (i * 37) % 200, 30 + (i * 91) % 210, 60 + (i * 53) % 190))
        ImageDraw.Draw(image).text((4, 16), str(i), fill=(255, 255, 255))
        image.save(folder / name, "JPEG", quality=85)
        if bad and i in bad:
            (folder / name).write_bytes(bad[i])
        rows.append({"item_id": f"item-{i:03d}", "image": name, "polarity": POLARITIES[i % 2]})
    manifest = folder / "manifest.csv"
    write_csv(manifest, rows)
    return manifest


def experiment(manifest: Path, base_url: str | None = None, *, models: list[dict] | None = None,
               **model_settings) -> dict:
    """A one-dataset, one-model config; the model is an openai-compatible server at `base_url`."""
    model = {"name": "fake", "adapter": "openai-compatible", "model": "fake-vl", "base_url": base_url,
             "concurrency": 8, "timeout_s": 5, "max_attempts": 4, "backoff_s": 0.01, "backoff_max_s": 0.2,
             **model_settings}
    return {
        "name": "test",
        "dimensions": ["polarity"],
        "image_max_side": 64,
        "datasets": [{"name": "tiny-set", "format": "csv", "path": str(manifest), "image_col": "image",
                      "id_col": "item_id", "label_cols": {"polarity": "polarity"}, "check_images": False}],
        "models": models or [model],
        "strategies": ["zero-shot"],
    }


def item_sha(manifest: Path, item_id: str, max_side: int = 64) -> str:
    """The sha256 of an item's image as the runner sends it (what the fake server records)."""
    from engine.preprocess import prepare_image
    return prepare_image(manifest.parent / "images" / f"{item_id}.jpg", max_side=max_side, cache=False).sha256
