"""Import predictions made elsewhere (a CSV of item id, gold and answer) into the results store.

The answer cell holds one label or a comma-separated ranking, best first; the first label is the
answer, the whole list (normalised) is kept as the ranking. Continuous dimensions take a number on
`scale`. Every item of the evaluated set (the test list, or the file) gets a prediction row:

- status "ok": the answer is a label of the dimension's label set (or a number on the scale);
- status "partial": an answer was given but lies outside the label set ("Concentration" for a
  facial-expression set) or outside the scale: answered and wrong, its words kept in `raw_label`;
- status "failed": the item is in the test list but absent from the file, or its cell is empty or
  not a number: unanswered.

Gold comes from the file's gold column and/or the test list (the test list wins where both have one;
disagreements are reported). For a polarity dimension, emotion words are mapped to their polarity
through the taxonomy, for gold and answers alike (Mikels et al. 2005 for the Mikels eight).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.datasets.base import CATEGORICAL, CONTINUOUS, Dataset, Gold, Item, normalise_value
from engine.errors import AffectLensError
from engine.parsing.labels import read_slot
from engine.store import connect, transaction
from engine.store.datasets import add_gold, gold_values, item_locations
from engine.store.evalsets import EvalSet, write_eval_set
from engine.datasets.stored import write_dataset
from engine.store.runs import clear_predictions
from engine.store.writes import write_predictions, write_run
from engine.taxonomy import TAXONOMIES, get_taxonomy, infer_taxonomy, normalize_label

__all__ = ["ImportResult", "import_predictions", "parse_scale", "read_table"]

PARSER_VERSION = "import-1"
ID_COLUMNS = ("name", "item_id", "id", "image", "file", "filename", "image_path")
GOLD_COLUMNS = ("gt", "gold", "label", "target", "truth")
PRED_COLUMNS = ("prediction", "pred", "answer", "output", "response")


@dataclass
class ImportResult:
    run_id: str
    dataset: str
    model: str
    strategy: str
    dimension: str
    gold_taxonomy: str | None
    answer_taxonomy: str | None
    n_total: int
    n_answered: int
    n_out_of_set: int
    n_unanswered: int
    created_dataset: bool
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"imported {self.model} on {self.dataset} ({self.dimension}): {self.n_answered}/{self.n_total} "
                f"answered, {self.n_out_of_set} outside the label set, {self.n_unanswered} unanswered; "
                f"run {self.run_id}")


def parse_scale(text: str | None) -> tuple[float, float] | None:
    """'1-9' -> (1.0, 9.0); also '1,9', '1:9', '-1..1'."""
    if text is None:
        return None
    cleaned = str(text).strip().replace("..", ":").replace(",", ":")
    parts = cleaned.split(":") if ":" in cleaned else cleaned.rsplit("-", 1) if cleaned.count("-") <= 1 \
        else [cleaned[: cleaned.index("-", 1)], cleaned[cleaned.index("-", 1) + 1:]]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"scale {text!r} is not LOW-HIGH; write it like 1-9 or 1-7") from None
    if not high > low:
        raise ValueError(f"scale {text!r}: the high end must exceed the low end")
    return low, high


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV/TSV/JSONL file as strings (empty cells as ''); a one-column text file as column 'name'."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; pass the path of the predictions or test list file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        try:
            frame = pd.read_json(path, lines=True, dtype=False)
        except ValueError as exc:
            raise AffectLensError(f"{path} is not JSON lines ({exc}); write one JSON object per line") from exc
        frame = frame.astype(object).where(frame.notna(), "")
    elif path.suffix.lower() in (".txt", ".lst"):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        frame = pd.DataFrame({"name": lines})
    else:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        try:
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            raise AffectLensError(f"{path} is empty; it needs a header row and one row per item") from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise AffectLensError(f"{path} is not a readable CSV ({exc}); check quoting and the encoding "
                                  "(UTF-8)") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda column: column.map(lambda v: str(v).strip() if v is not None else ""))


def _pick(frame: pd.DataFrame, given: str | None, candidates: tuple[str, ...], what: str, path, *,
          required: bool = True) -> str | None:
    if given is not None:
        if given.lower() in ("none", ""):
            return None
        if given not in frame.columns:
            raise AffectLensError(f"{path} has no column {given!r} for the {what}; its columns: "
                                  f"{', '.join(frame.columns)}")
        return given
    lower = {c.lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    if required:
        raise AffectLensError(f"cannot tell which column of {path} holds the {what}; pass it with "
                              f"--{what.split()[0]}-col (columns: {', '.join(frame.columns)})")
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _words(cell: str) -> list[str]:
    return [w.strip() for w in str(cell).split(",") if w.strip()]


def _unknown_gold_error(bad: list[tuple[str, str]], taxonomy: str, source: str) -> AffectLensError:
    shown = "; ".join(f"item {item}: {normalize_label(label, taxonomy).explain()}" for item, label in bad[:5])
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    return AffectLensError(f"gold labels in {source} are not labels of {taxonomy}: {shown}{more}; fix the labels "
                           f"or pass --taxonomy with the label set they come from ({', '.join(sorted(TAXONOMIES))})")


def _answer_taxonomy(words: list[str], gold_taxonomy: str | None, dimension: str) -> str | None:
    """The taxonomy in which most answer words are labels as written (gold's taxonomy wins ties)."""
    counts = Counter(words)
    if not counts:
        return gold_taxonomy
    best, best_key = None, None
    for tax in TAXONOMIES.values():
        if dimension == "emotion" and tax.polarity_only:
            continue
        hits = sum(n for w, n in counts.items() if (m := normalize_label(w, tax.name)).label and m.via is None)
        key = (hits, tax.name == gold_taxonomy, -len(tax.labels))
        if hits and (best_key is None or key > best_key):
            best, best_key = tax.name, key
    return best or gold_taxonomy


def _match_ids(wanted: list[str], existing: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
    """Map the file's ids onto an existing dataset's item ids: exact, else image file name, else stem."""
    exact = set(existing["item_id"])
    by_name: dict[str, str] = {}
    by_stem: dict[str, str] = {}
    for item_id, image_path in zip(existing["item_id"], existing["image_path"]):
        for ref in (item_id, image_path):
            if isinstance(ref, str) and ref:
                by_name.setdefault(Path(ref).name, item_id)
                by_stem.setdefault(Path(ref).stem, item_id)
    mapping, unknown = {}, []
    for raw in wanted:
        hit = raw if raw in exact else by_name.get(Path(raw).name) or by_stem.get(Path(raw).stem)
        if hit is None:
            unknown.append(raw)
        else:
            mapping[raw] = hit
    return mapping, unknown


def _gold_for(dimension: str, effective: dict[str, str], taxonomy: str | None, scale, source: str
              ) -> tuple[dict[str, Gold], str | None]:
    """Normalised gold per item, and the gold's taxonomy (categorical) — or a clear error."""
    if dimension in CONTINUOUS:
        gold, bad = {}, []
        for item, text in effective.items():
            try:
                gold[item] = Gold(value=float(text), scale=scale)
            except ValueError:
                bad.append(f"item {item}: {text!r}")
        if bad:
            raise AffectLensError(f"gold values in {source} are not numbers: {'; '.join(bad[:5])}; fix them or "
                                  "pass --gold-col none and load the gold with the dataset")
        return gold, None
    labels = list(effective.values())
    if dimension == "polarity":
        tax = taxonomy or ("polarity3" if any(normalize_label(g, "polarity3").label == "neutral" for g in labels)
                           else "polarity2")
        if not get_taxonomy(tax).polarity_only:
            raise AffectLensError(f"--taxonomy {tax} is not a polarity label set; use polarity2 or polarity3 "
                                  "with --dimension polarity")
    else:
        tax = taxonomy or infer_taxonomy(labels)
        if tax is None:  # name the labels that do not fit the closest taxonomy
            tax = max((t for t in TAXONOMIES.values() if not t.polarity_only),
                      key=lambda t: sum(normalize_label(g, t.name).ok for g in labels)).name
    gold, bad = {}, []
    for item, text in effective.items():
        match = normalize_label(text, tax)
        if match.label is None:
            bad.append((item, text))
        else:
            gold[item] = Gold(label=match.label, labels=(match.label,), taxonomy=tax)
    if bad:
        raise _unknown_gold_error(bad, tax, source)
    return gold, tax


def _prediction(cell: str, dimension: str, gold_taxonomy: str | None, answer_taxonomy: str | None, scale) -> dict:
    words = _words(cell)
    if not words:
        return {"status": "failed"}
    first = words[0]
    if dimension in CONTINUOUS:
        try:
            value = float(first)
        except ValueError:
            return {"status": "failed", "raw_label": first}
        low, high = scale
        inside = low <= value <= high
        return {"status": "ok" if inside else "partial", "value": value, "raw_label": first,
                "value_norm": normalise_value(dimension, value, scale) if inside else None, "span": cell}
    label_taxonomy = gold_taxonomy if dimension == "polarity" else answer_taxonomy
    label = _label(first, label_taxonomy)
    ranking = [_label(w, answer_taxonomy) for w in words] if answer_taxonomy else None
    return {"status": "ok" if label else "partial", "label": label, "raw_label": first,
            "ranking": ranking if ranking and len(words) > 1 else None, "span": cell}


def _label(word: str, taxonomy: str | None) -> str | None:
    """The label one answer word names in `taxonomy`, read by the answer parser's slot rules; None if none."""
    found = read_slot(word, taxonomy) if taxonomy else None
    return found.value if found is not None and found.status == "ok" else None


def import_predictions(path: str | os.PathLike, *, dataset: str, model: str, dimension: str | None = None,
                       scale: str | tuple[float, float] | None = None, taxonomy: str | None = None,
                       id_col: str | None = None, gold_col: str | None = None, pred_col: str | None = None,
                       confidence_col: str | None = None, test_list: str | os.PathLike | None = None,
                       strategy: str = "imported", db_path: str | os.PathLike | None = None) -> ImportResult:
    """Store predictions made elsewhere as one run (adapter "import") with its dataset, items and gold."""
    path = Path(path)
    frame = read_table(path)
    problems: list[str] = []
    id_column = _pick(frame, id_col, ID_COLUMNS, "id column", path)
    gold_column = _pick(frame, gold_col, GOLD_COLUMNS, "gold column", path, required=False)
    others = [c for c in frame.columns if c not in (id_column, gold_column, confidence_col)]
    pred_column = _pick(frame, pred_col, (model.lower(), "gpt4v", *PRED_COLUMNS), "pred column", path,
                        required=len(others) != 1) or others[0]
    if confidence_col is not None and confidence_col not in frame.columns:
        raise AffectLensError(f"{path} has no column {confidence_col!r}; its columns: {', '.join(frame.columns)}")
    if isinstance(scale, str):
        scale = parse_scale(scale)
    if taxonomy is not None:
        get_taxonomy(taxonomy)  # a clear error for an unknown name

    rows: dict[str, pd.Series] = {}
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        record = dict(zip(frame.columns, row))
        item = record[id_column]
        if not item:
            problems.append(f"{path.name} line {number}: empty id, row skipped")
        elif item in rows:
            problems.append(f"{path.name} line {number}: item {item} appears again; the first row is kept")
        else:
            rows[item] = record
    file_gold = {i: r[gold_column] for i, r in rows.items() if gold_column and r[gold_column]}

    list_gold: dict[str, str] = {}
    test_sha = None
    if test_list is not None:
        test_path = Path(test_list)
        listing = read_table(test_path)
        list_id = id_column if id_column in listing.columns else _pick(listing, None, ID_COLUMNS, "id column",
                                                                       test_path, required=False) or listing.columns[0]
        list_gold_column = gold_column if gold_column in listing.columns else (
            None if gold_col is not None and gold_col.lower() == "none"
            else _pick(listing, None, GOLD_COLUMNS, "gold column", test_path, required=False))
        evaluated = list(dict.fromkeys(i for i in listing[list_id] if i))
        if list_gold_column:
            list_gold = {i: g for i, g in zip(listing[list_id], listing[list_gold_column]) if i and g}
        listed = set(evaluated)
        extra = [i for i in rows if i not in listed]
        if extra:
            problems.append(f"{len(extra)} items of {path.name} are not in the test list and were skipped "
                            f"(e.g. {', '.join(extra[:3])})")
        test_sha = _sha256(test_path)
    else:
        evaluated = list(rows)
    if not evaluated:
        raise AffectLensError(f"{path} lists no items; check --id-col and the file")

    effective = {i: list_gold.get(i) or file_gold.get(i) for i in evaluated if list_gold.get(i) or file_gold.get(i)}
    if dimension is None:
        if effective and all(_is_number(g) for g in effective.values()):
            raise AffectLensError("the gold values are numbers: pass --dimension valence|arousal|intensity and --scale")
        inferred = infer_taxonomy(list(effective.values()))
        dimension = "polarity" if inferred and get_taxonomy(inferred).polarity_only else "emotion"
    if dimension not in (*CATEGORICAL, *CONTINUOUS):
        raise AffectLensError(f"--dimension {dimension!r} is not importable; use one of "
                              f"{', '.join((*CATEGORICAL, *CONTINUOUS))}")
    if dimension in CONTINUOUS and scale is None:
        raise AffectLensError(f"--dimension {dimension} needs --scale LOW-HIGH for the file's numbers, e.g. --scale 1-9")
    no_gold = [i for i in evaluated if i not in effective]
    if no_gold:
        problems.append(f"{len(no_gold)} evaluated items have no gold in {path.name}"
                        f"{' or the test list' if test_list is not None else ''} and cannot be scored "
                        f"(e.g. {', '.join(no_gold[:3])}); add their gold or load the dataset first")
    source = f"{test_list} and {path}" if test_list is not None and list_gold else str(path)
    gold, gold_taxonomy = _gold_for(dimension, effective, taxonomy, scale, source) if effective else ({}, taxonomy)
    problems.extend(_gold_conflicts(file_gold, gold, dimension, gold_taxonomy, list_gold))
    extra_gold = _emotion_gold(list_gold, evaluated) if dimension == "polarity" else {}

    answer_words = [w for item in evaluated if item in rows for w in _words(rows[item][pred_column])]
    answer_taxonomy = None if dimension in CONTINUOUS else _answer_taxonomy(answer_words, gold_taxonomy, dimension)
    predictions = []
    for item in evaluated:
        record = rows.get(item)
        parsed = _prediction(record[pred_column], dimension, gold_taxonomy, answer_taxonomy, scale) if record \
            else {"status": "failed"}
        if record is not None and confidence_col and _is_number(record[confidence_col]):
            value = float(record[confidence_col])
            parsed["confidence"] = value / 100 if value > 1 else value
        predictions.append({"item_id": item, "dimension": dimension, "method": "import",
                            "parser_version": PARSER_VERSION, **parsed})

    file_sha = _sha256(path)
    run_id = "import-" + hashlib.sha256(json.dumps(
        [dataset, model, strategy, dimension, file_sha, test_sha, id_column, gold_column, pred_column]
    ).encode()).hexdigest()[:16]
    with connect(db_path) as con:
        created, mapping, more = _store_dataset(con, dataset, evaluated, dimension, gold, extra_gold,
                                                gold_taxonomy, scale, path)
        problems.extend(more)
        for prediction in predictions:
            prediction["item_id"] = mapping[prediction["item_id"]] if mapping is not None else prediction["item_id"]
        predictions = [p for p in predictions if p["item_id"] is not None]
        if not predictions:
            raise AffectLensError(f"none of the ids in {path.name} is an item of dataset {dataset!r}; check "
                                  "--id-col or --dataset")
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        members = [p["item_id"] for p in predictions]
        drawn = f"test list {Path(test_list).name}" if test_list is not None else f"the items of {path.name}"
        evaluation_set = EvalSet(dataset, tuple(members), f"{dataset} · {drawn}",
                                 {"source": "import", "test_list_sha256": test_sha, "file_sha256": file_sha})
        with transaction(con):
            clear_predictions(con, run_id)
            write_eval_set(con, evaluation_set)
            write_run(con, {
                "run_id": run_id, "dataset": dataset, "model": model, "adapter": "import", "model_id": model,
                "strategy": strategy, "dimensions": [dimension], "taxonomy": answer_taxonomy or gold_taxonomy,
                "parser_version": PARSER_VERSION, "status": "complete", "n_items": len(predictions),
                "started_at": now, "finished_at": now, "eval_set": evaluation_set.eval_set, "purpose": "benchmark",
                "config": {"file": str(path), "id_col": id_column, "gold_col": gold_column, "pred_col": pred_column,
                           "confidence_col": confidence_col, "test_list": str(test_list) if test_list else None,
                           "dimension": dimension, "scale": list(scale) if scale else None,
                           "taxonomy": gold_taxonomy},
                "provenance": {"source_file": str(path.resolve()), "source_sha256": file_sha,
                               "test_list": str(Path(test_list).resolve()) if test_list else None,
                               "test_list_sha256": test_sha, "gold_taxonomy": gold_taxonomy,
                               "answer_taxonomy": answer_taxonomy, "affectlens_version": _version(),
                               "imported_at": now.isoformat(), "problems": problems[:50]},
            })
            write_predictions(con, [{"run_id": run_id, "dataset": dataset, **p} for p in predictions])
    statuses = Counter(p["status"] for p in predictions)
    return ImportResult(run_id, dataset, model, strategy, dimension, gold_taxonomy, answer_taxonomy,
                        len(predictions), statuses["ok"] + statuses["partial"], statuses["partial"],
                        statuses["failed"], created, problems)


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _version() -> str:
    from engine import __version__
    return __version__


def _gold_conflicts(file_gold: dict[str, str], gold: dict[str, Gold], dimension: str, taxonomy: str | None,
                    list_gold: dict[str, str]) -> list[str]:
    """Items whose gold in the predictions file disagrees with the test list (compared in the gold's
    taxonomy, or by polarity where the file's gold is coarser, as abstract's polarity vs Mikels)."""
    if not list_gold or dimension in CONTINUOUS or taxonomy is None:
        return []
    conflicts = []
    for item, text in file_gold.items():
        if item not in list_gold or item not in gold:
            continue
        mine = normalize_label(text, taxonomy).label
        expected = gold[item].label
        if mine is None:
            mine = normalize_label(text, "polarity3").label
            expected = normalize_label(expected, "polarity3").label
        if mine != expected:
            conflicts.append(f"item {item}: file gold {text!r} vs test list {list_gold[item]!r}")
    if not conflicts:
        return []
    return [f"{len(conflicts)} items have different gold in the file and the test list; the test list is used "
            f"({'; '.join(conflicts[:5])})"]


def _emotion_gold(list_gold: dict[str, str], evaluated: list[str]) -> dict[str, Gold]:
    """Emotion gold kept beside a polarity import when the test list names emotions (abstract: Mikels)."""
    labels = [list_gold[i] for i in evaluated if i in list_gold]
    tax = infer_taxonomy(labels)
    if not labels or tax is None or get_taxonomy(tax).polarity_only:
        return {}
    return {i: Gold(label=(label := normalize_label(list_gold[i], tax).label), labels=(label,), taxonomy=tax)
            for i in evaluated if i in list_gold}


def _gold_row(dataset: str, item_id: str, dimension: str, gold: Gold) -> dict:
    return {"dataset": dataset, "item_id": item_id, "dimension": dimension, "label": gold.label,
            "labels": list(gold.labels) or None, "value": gold.value,
            "value_norm": normalise_value(dimension, gold.value, gold.scale),
            "scale_low": gold.scale[0] if gold.scale else None, "scale_high": gold.scale[1] if gold.scale else None,
            "taxonomy": gold.taxonomy}


def _store_dataset(con, dataset: str, evaluated: list[str], dimension: str, gold: dict[str, Gold],
                   extra_gold: dict[str, Gold], taxonomy: str | None, scale, path: Path
                   ) -> tuple[bool, dict[str, str | None] | None, list[str]]:
    """Create the dataset from the import, or add the missing gold to an existing one.

    Returns (created, id mapping onto existing item ids or None, problems)."""
    existing = item_locations(con, dataset)
    if existing.empty:
        items = []
        for item_id in evaluated:
            item_gold = {}
            if item_id in gold:
                item_gold[dimension] = gold[item_id]
            if item_id in extra_gold:
                item_gold["emotion"] = extra_gold[item_id]
            items.append(Item(item_id=item_id, image_path=None, gold=item_gold))
        scales = {dimension: tuple(scale)} if scale and dimension in CONTINUOUS else {}
        write_dataset(con, Dataset(dataset, "import", None, items, taxonomy=taxonomy, scales=scales,
                                   meta={"imported_from": path.name}))
        return True, None, []
    mapping, unknown = _match_ids(evaluated, existing)
    problems = []
    if unknown:
        problems.append(f"{len(unknown)} ids are not items of dataset {dataset!r} and were skipped "
                        f"(e.g. {', '.join(unknown[:3])}); check --id-col or --dataset")
    stored = gold_values(con, dataset)
    have = {(i, d): (label, value) for i, d, label, value in stored.itertuples(index=False)}
    new_rows, conflicts = [], []
    for raw, item_id in mapping.items():
        for dim, source in ((dimension, gold), ("emotion", extra_gold)):
            if raw not in source:
                continue
            if (item_id, dim) in have:
                label, value = have[(item_id, dim)]
                g = source[raw]
                if (g.label is not None and g.label != label) or (g.value is not None and value is not None
                                                                  and abs(g.value - value) > 1e-9):
                    conflicts.append(f"{item_id} ({dim}: stored {label if g.label else value}, "
                                     f"file {g.label or g.value})")
            else:
                new_rows.append(_gold_row(dataset, item_id, dim, source[raw]))
    if new_rows:
        add_gold(con, dataset, new_rows)
    if conflicts:
        problems.append(f"{len(conflicts)} items differ from the stored gold, which is kept: {'; '.join(conflicts[:5])}")
    return False, {raw: mapping.get(raw) for raw in evaluated}, problems
