"""Reading source files safely: CSV and JSONL rows with their line numbers, image paths kept inside a root.

A bad row never stops a load: readers yield `(where, record)` pairs and a `LoadProblem` for each row
they cannot read, saying where it is and what to fix.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

from engine.datasets.base import Dataset, Item, LoadProblem
from engine.errors import DatasetError

__all__ = ["Row", "read_table", "read_csv", "read_jsonl", "write_csv", "items_from_rows", "number_cell",
           "resolve_inside", "require_file", "label_file", "require_columns", "set_row_refs", "row_refs",
           "sort_problems", "short_path"]

Row = tuple[str, dict]  # ("labels.csv line 7", {"column": "cell", ...})


def require_file(path: Path, what: str, fix: str) -> Path:
    """`path` if it is a file, else a DatasetError saying what was expected there and how to fix it."""
    if not path.is_file():
        raise DatasetError(f"{what} not found at {path}; {fix}")
    return path


def label_file(root: Path, dataset: str, original: str, folder: str) -> Path:
    """The labels a release loader reads: `root/labels.csv` (the common clean layout) where it is a file,
    else `root/original` (the release's own label file, or folder where `original` ends in "/").

    Neither is a DatasetError naming both and the release `folder` to point the config's path at.
    """
    if (root / "labels.csv").is_file():
        return root / "labels.csv"
    source = root / original.rstrip("/")
    if source.is_dir() if original.endswith("/") else source.is_file():
        return source
    raise DatasetError(f"{dataset}: neither labels.csv nor {original} in {root}; point path at the {folder} "
                       f"folder (the one holding images/ and {original})")


def require_columns(dataset: str, file: Path, header: list[str], columns: Iterable[str], fix: str = "") -> None:
    """A DatasetError naming every column of `columns` that `header` lacks (an empty name as '', the
    unnamed first column of some releases), followed by `fix`; nothing when none is missing."""
    missing = [column for column in columns if column not in header]
    if missing:
        names = ", ".join(column or "''" for column in missing)
        raise DatasetError(f"{dataset}: {file} lacks the column(s) {names}{fix}")


def read_table(path: Path, fmt: str | None = None, delimiter: str | None = None
               ) -> tuple[list[str], list[Row], list[LoadProblem]]:
    """Rows of a CSV/TSV or JSONL file, chosen by `fmt` or the file extension."""
    kind = (fmt or path.suffix.lstrip(".")).lower()
    if kind in ("jsonl", "ndjson", "json"):
        return read_jsonl(path)
    if kind == "tsv" and delimiter is None:
        delimiter = "\t"
    return read_csv(path, delimiter=delimiter or ",")


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None


def read_csv(path: Path, delimiter: str = ",", fieldnames: list[str] | None = None, quotechar: str = '"'
             ) -> tuple[list[str], list[Row], list[LoadProblem]]:
    """Header, rows and problems of a CSV file; `where` of each row is "<file> line N" (header = line 1).

    A row with more or fewer cells than the header, or an unclosed quote, is reported and skipped;
    reading resumes on the next line, so one broken row costs only itself. Old-Mac CR line endings
    are accepted. `fieldnames` names the columns of a file without a header line (its line 1 is data);
    `quotechar` is the quote character (Abstract's ground truth quotes with ').
    """
    lines = _text(path).splitlines(keepends=True)
    if fieldnames is None and (not lines or not lines[0].strip()):
        raise DatasetError(f"{path} is empty or has no header line; the first line must name the columns")
    header = list(fieldnames) if fieldnames is not None else \
        [cell.strip() for cell in next(csv.reader([lines[0]], delimiter=delimiter, quotechar=quotechar))]
    if not header or len(set(header)) != len(header):
        dupes = sorted({c for c in header if header.count(c) > 1})
        raise DatasetError(f"{path}: the header names {', '.join(map(repr, dupes))} more than once; "
                           "give each column its own name")
    rows: list[Row] = []
    problems: list[LoadProblem] = []
    pos = 0 if fieldnames is not None else 1

    def feed() -> Iterator[str]:
        nonlocal pos
        while pos < len(lines):
            pos += 1
            yield lines[pos - 1]

    reader = csv.reader(feed(), delimiter=delimiter, quotechar=quotechar, strict=True)
    while pos < len(lines):
        start = pos
        if not lines[start].strip():
            pos += 1
            continue
        where = f"{path.name} line {start + 1}"
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(LoadProblem(where, f"cannot be read as CSV ({exc}); check its quotes"))
            pos = start + 1
            reader = csv.reader(feed(), delimiter=delimiter, quotechar=quotechar, strict=True)
            continue
        if len(cells) != len(header):
            spanned = pos - start
            hint = ("an opening quote is never closed" if spanned > 1
                    else "quote cells that contain the delimiter" if len(cells) > len(header)
                    else "fill in the missing cells")
            problems.append(LoadProblem(where, f"has {len(cells)} cells where the header has {len(header)} "
                                               f"({hint}); the row is skipped"))
            pos = start + 1  # resume right after the broken line
            reader = csv.reader(feed(), delimiter=delimiter, quotechar=quotechar, strict=True)
            continue
        rows.append((where, dict(zip(header, (cell.strip() for cell in cells)))))
    return header, rows, problems


def write_csv(path: Path, rows: list[dict]) -> Path:
    """`rows` as a UTF-8 CSV with a header of the first row's keys (a manifest `read_table` reads back)."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def read_jsonl(path: Path) -> tuple[list[str], list[Row], list[LoadProblem]]:
    """Objects of a JSON Lines file (one object a line); a bad line is reported and skipped."""
    rows: list[Row] = []
    problems: list[LoadProblem] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(io.StringIO(_text(path)), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(LoadProblem(where, f"is not valid JSON ({exc.msg} at column {exc.colno}); "
                                               "the line is skipped"))
            continue
        if not isinstance(record, dict):
            problems.append(LoadProblem(where, f"is a JSON {type(record).__name__}, not an object; "
                                               "write one {\"column\": value} object per line"))
            continue
        columns.update(dict.fromkeys(record))
        rows.append((where, record))
    return list(columns), rows, problems


def resolve_inside(root: Path, relative: str, real_dirs: dict[Path, Path] | None = None) -> Path:
    """`root / relative`, refusing paths that leave `root` (absolute, `..`, or a symlink pointing out).

    Raises ValueError with the reason; the caller turns it into a LoadProblem for the row.
    `real_dirs` caches resolved folders across calls (many images share one folder).
    """
    text = str(relative).strip()
    if not text:
        raise ValueError("has an empty image path")
    shown = short_path(text)
    if "\0" in text:
        raise ValueError(f"image path {shown} contains a NUL byte (\\x00), which no file name can hold; fix the "
                         "cell (often a binary or mis-encoded file pasted into the manifest)")
    posix = PurePosixPath(text.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(text).drive:
        raise ValueError(f"image path {shown} is absolute; give it relative to the dataset root '{root}'")
    if ".." in posix.parts:
        raise ValueError(f"image path {shown} contains '..' and would leave the dataset root '{root}'; "
                         "move the image under the root")
    full = root / posix
    cache = real_dirs if real_dirs is not None else {}
    try:
        real_root = _real(root, cache)
        real = full.resolve() if full.is_symlink() else _real(full.parent, cache) / full.name
    except (OSError, RuntimeError) as exc:  # too long, permission denied, a symlink loop: this row's problem
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"image path {shown} cannot be used ({reason}); shorten or fix the path, or check "
                         "the folder's permissions") from None
    if real != real_root and not real.is_relative_to(real_root):
        raise ValueError(f"image path {shown} leads through a link to {short_path(str(real))}, outside the "
                         f"dataset root '{root}'; copy the image under the root instead of linking it")
    return full


def short_path(text: str, keep: int = 80, quote: bool = True) -> str:
    """A path for a message (quoted unless `quote=False`), cut to `keep` characters with its length when longer."""
    show = repr if quote else str
    return show(text) if len(text) <= keep else f"{show(text[:keep])}... ({len(text):,} characters)"


def _real(folder: Path, cache: dict[Path, Path]) -> Path:
    if folder not in cache:
        cache[folder] = folder.resolve()
    return cache[folder]


def items_from_rows(rows: list[Row], make: Callable[[dict], Item | None], problems: list[LoadProblem], *,
                    repeat_fix: str = "") -> tuple[list[Item], dict[str, str]]:
    """Items made from `(where, record)` rows, and where each came from.

    A row whose `make` raises ValueError, or whose item id an earlier row already gave, becomes a
    `LoadProblem` naming its line (`repeat_fix` says how to tell repeats apart) and is skipped.
    A row for which `make` returns None is left out on purpose (the loader counts it) without a problem.
    """
    items, refs = [], {}
    for where, record in rows:
        try:
            item = make(record)
        except ValueError as exc:
            problems.append(LoadProblem(where, f"{exc}; the row is skipped"))
            continue
        if item is None:
            continue
        if item.item_id in refs:
            problems.append(LoadProblem(where, f"id {item.item_id!r} repeats {refs[item.item_id]}{repeat_fix}; "
                                               "the repeat is skipped"))
            continue
        items.append(item)
        refs[item.item_id] = where
    return items, refs


def number_cell(record: dict, column: str) -> float:
    """A numeric cell; ValueError naming the column and what it holds otherwise."""
    cell = record.get(column)
    try:
        return float(cell)
    except (TypeError, ValueError):
        raise ValueError(f"column {column!r} holds {cell!r}, not a number") from None


# Where each item came from ("labels.csv line 7"), for messages about its image. Kept on the Dataset
# object as a plain attribute, so it is never written to the store with the dataset.
_ROWS_ATTR = "_row_refs"


def set_row_refs(dataset: Dataset, refs: dict[str, str]) -> Dataset:
    setattr(dataset, _ROWS_ATTR, refs)
    return dataset


def row_refs(dataset: Dataset) -> dict[str, str]:
    return getattr(dataset, _ROWS_ATTR, {})


def _row_order(problem: LoadProblem) -> tuple:
    """Problems sorted by file, then line number ("labels.csv line 12" after "labels.csv line 3")."""
    match = re.match(r"(.*?)(\d+)$", problem.row)
    return (match.group(1), int(match.group(2)), problem.row) if match else (problem.row, 0, problem.row)


def sort_problems(problems: list[LoadProblem]) -> list[LoadProblem]:
    return sorted(problems, key=_row_order)
