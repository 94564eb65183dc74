"""A loader for a 'toy' layout: a text file of `item_id,polarity` lines and an image per item."""

from pathlib import Path

from engine.datasets.base import Dataset, Gold, Item, register_loader


@register_loader("toy-csv")
def load_toy(path, **options) -> Dataset:
    root = Path(path)
    items = []
    for line in (root / "labels.txt").read_text().splitlines():
        item_id, polarity = line.split(",")
        items.append(Item(item_id, f"{item_id}.jpg", {"polarity": Gold(label=polarity, labels=(polarity,),
                                                                        taxonomy="polarity2")}))
    return Dataset("toy", "toy-csv", root, items, taxonomy="polarity2")
