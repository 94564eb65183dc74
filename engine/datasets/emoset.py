"""EmoSet-118K (Yang, Huang, Ding, Lischinski, Cohen-Or & Huang, "EmoSet: A Large-scale Visual Emotion
Dataset with Rich Attributes", ICCV 2023): 118,102 images, 8 Mikels emotions and 6 attributes.

Reads the release as its README's "File Structure" lays it out (`JingyuanYY/EmoSet`):

    info.json                        # label <-> index maps of every field (real file in ../shared/layouts)
    train.json  val.json  test.json  # official splits: lists of [emotion, id, image path, annotation path]
    annotation/<emotion>/<id>.json   # per-image attributes
    image/<emotion>/<id>.jpg

Split entries with 3 elements ([emotion, image path, annotation path], seen in some copies) are accepted.
No real split or annotation file was available here; their format follows the official loader
`EmoSet.py`. Per-image attribute keys, each optional: `brightness`, `colorfulness` (numbers on a 0.1
grid), `scene`, `facial_expression`, `human_action` (strings), `object` (a list of strings). They become
item `meta` for slicing (`brightness`/`colorfulness` as numbers, `object` as a list); a value that
info.json does not list is kept and counted in `meta["unknown_attribute_values"]` of the dataset.

Gold: `emotion` (mikels8; info.json's order puts the four positive emotions first -- names are used,
never indices) and `polarity` by the official loader's 2-class grouping (indices 0-3 positive, 4-7
negative, the Mikels et al. 2005 grouping). Without split files, `image/<emotion>/` is walked and no
split is set. Item ids are the image ids (`amusement_12865`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import Row, items_from_rows, resolve_inside, set_row_refs
from engine.datasets.release import add_polarity, image_files, label_gold, visible_dirs
from engine.errors import DatasetError

SPLITS = ("train", "val", "test")
ATTRIBUTES = ("brightness", "colorfulness", "scene", "object", "facial_expression", "human_action")

INFO = release_info("emoset")


def _split_rows(root: Path) -> tuple[list[Row], list[LoadProblem]]:
    rows, problems = [], []
    for split in SPLITS:
        path = root / f"{split}.json"
        if not path.is_file():
            continue
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"emoset: {path} is not valid JSON ({exc.msg}, line {exc.lineno}); re-extract it") from None
        if not isinstance(entries, list):
            raise DatasetError(f"emoset: {path} is not a JSON list of [emotion, id, image, annotation] entries")
        for number, entry in enumerate(entries):
            where = f"{path.name} entry {number}"
            if not isinstance(entry, list) or len(entry) not in (3, 4) or not all(isinstance(e, str) for e in entry):
                problems.append(LoadProblem(where, f"is {json.dumps(entry)[:80]}, not [emotion, id, image path, "
                                                   "annotation path]; the entry is skipped"))
                continue
            emotion, *rest = entry
            item_id, image, annotation = rest if len(rest) == 3 else (Path(rest[0]).stem, *rest)
            rows.append((where, {"emotion": emotion, "id": item_id, "image": image, "annotation": annotation,
                                 "split": split}))
    return rows, problems


def _walk_rows(root: Path) -> list[Row]:
    rows = []
    for folder in visible_dirs(root / "image"):
        for file in image_files(folder):
            relative = file.relative_to(root).as_posix()
            rows.append((relative, {"emotion": folder.name, "id": file.stem, "image": relative,
                                    "annotation": f"annotation/{folder.name}/{file.stem}.json", "split": None}))
    return rows


@register_loader("emoset", INFO)
def load_emoset(path: str | Path) -> Dataset:
    """EmoSet-118K: Mikels emotion, polarity, official splits, the six attributes as item metadata."""
    root = Path(path)
    info = {}
    if (root / "info.json").is_file():
        info = json.loads((root / "info.json").read_text(encoding="utf-8"))
    rows, problems = _split_rows(root)
    if not rows and not problems:
        if not (root / "image").is_dir():
            raise DatasetError(f"emoset: neither train/val/test.json nor image/ in {root}; point path at the "
                               "unzipped EmoSet-118K folder")
        rows = _walk_rows(root)
    known = {field: set(spec.get("label2idx", {})) for field, spec in info.items() if isinstance(spec, dict)}
    unknown: Counter = Counter()

    def make(record: dict) -> Item:
        if known.get("emotion") and record["emotion"] not in known["emotion"]:
            raise ValueError(f"emotion {record['emotion']!r} is not in info.json")
        gold = add_polarity({"emotion": label_gold(record["emotion"], "mikels8", "emotion")})
        meta: dict = {}
        try:
            annotation = resolve_inside(root, record["annotation"])
            data = json.loads(annotation.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(LoadProblem(record["where"], f"annotation {record['annotation']} is missing; the item is "
                                                         "kept without attributes"))
            data = {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"annotation {record['annotation']} is not valid JSON ({exc.msg})") from None
        for field in ATTRIBUTES:
            if field not in data or data[field] is None:
                continue
            value = data[field]
            if field in ("brightness", "colorfulness"):
                if isinstance(value, str) or not isinstance(value, (int, float)):
                    try:
                        value = float(value)
                    except (TypeError, ValueError):
                        raise ValueError(f"annotation {field} {value!r} is not a number") from None
                label = f"{float(value):.1f}"
            elif field == "object":
                value = [value] if isinstance(value, str) else list(value)
                label = None
                missing = sum(1 for v in value if known.get(field) and v not in known[field])
                if missing:
                    unknown[field] += missing
            else:
                label = value
            if label is not None and known.get(field) and label not in known[field]:
                unknown[field] += 1
            meta[field] = value
        return Item(record["id"], record["image"], gold, split=record["split"], meta=meta)

    tagged = [(where, {**record, "where": where}) for where, record in rows]
    items, refs = items_from_rows(tagged, make, problems, repeat_fix=" (an image listed in two split files)")
    dataset = Dataset("emoset", "emoset", root, items, taxonomy="mikels8", problems=problems,
                      meta={"unknown_attribute_values": dict(unknown), "has_info_json": bool(info)})
    return set_row_refs(dataset, refs)
