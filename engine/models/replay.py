"""`replay`: answers read from a file of model outputs made elsewhere.

Options (`models: - {adapter: replay, options: {...}}`):
  file       CSV/TSV or JSONL (one JSON object a line) with one row per item (required)
  id_col     the item column (default: the first of item_key, item_id, id, image, filename, name)
  text_col   the answer column (default: the first of answer, text, response, output, prediction)
An item is looked up by its `dataset/item_id` key, then its item id, then the file name of its id
without extension, so ids written as `images/x.jpg`, `x.jpg` or `x` all match item `x.jpg`. The
answer text goes through the common parser like any model's answer. An item missing from the file
is a stored error (bad_request), never a guess.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path, PurePosixPath

from engine.errors import AffectLensError
from engine.models.base import ErrorClass, ModelAdapter, ModelRequest, ModelResponse, PrepareContext

ID_COLUMNS = ("item_key", "item_id", "id", "image", "filename", "name")
TEXT_COLUMNS = ("answer", "text", "response", "output", "prediction")


class ReplayError(AffectLensError):
    pass


def _stem(value: str) -> str:
    return PurePosixPath(value.replace("\\", "/")).stem


class ReplayAdapter(ModelAdapter):
    name = "replay"
    local = True

    def __init__(self, spec):
        super().__init__(spec)
        self.file = self.typed_options.file
        self.id_col = self.typed_options.id_col
        self.text_col = self.typed_options.text_col
        self.answers: dict[str, tuple[str, int]] | None = None  # key -> (answer text, row number)
        self.load_error: str | None = None

    def load(self) -> None:
        """Read the file once; raises ReplayError naming the file and the fix."""
        if self.answers is not None:
            return
        if not self.file:
            raise ReplayError(f"model {self.spec.name!r}: the replay adapter needs options.file (a CSV or JSONL "
                              "file with an item id column and an answer column)")
        path = Path(self.file).expanduser()
        if not path.is_file():
            raise ReplayError(f"model {self.spec.name!r}: replay file {path} does not exist")
        rows = _read_rows(path)
        if not rows:
            raise ReplayError(f"replay file {path} has no rows")
        columns = list(rows[0][1])
        id_col = self.id_col or next((c for c in ID_COLUMNS if c in columns), None)
        text_col = self.text_col or next((c for c in TEXT_COLUMNS if c in columns), None)
        for role, col, options in (("id", id_col, ID_COLUMNS), ("text", text_col, TEXT_COLUMNS)):
            if col is None or col not in columns:
                raise ReplayError(f"replay file {path}: no {role} column {col or ''!r} among {', '.join(columns)}; "
                                  f"set options.{role}_col (default looks for {', '.join(options)})")
        answers: dict[str, tuple[str, int]] = {}
        for line, row in rows:
            key, text = row.get(id_col), row.get(text_col)
            if key is None or str(key).strip() == "":
                raise ReplayError(f"replay file {path}, row {line}: empty {id_col!r}")
            key, text = str(key).strip(), "" if text is None else str(text)
            if key in answers and answers[key][0] != text:
                raise ReplayError(f"replay file {path}: item {key!r} has two different answers "
                                  f"(rows {answers[key][1]} and {line}); keep one")
            answers[key] = (text, line)
        # Secondary keys (the file name without extension) only where they are unambiguous.
        stems: dict[str, list[str]] = {}
        for key in answers:
            stems.setdefault(_stem(key), []).append(key)
        for stem, keys in stems.items():
            if stem not in answers and len(keys) == 1:
                answers[stem] = answers[keys[0]]
        self.answers = answers

    async def prepare(self, context: PrepareContext) -> None:
        self.load()

    async def generate(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            if self.load_error:
                raise ReplayError(self.load_error)
            self.load()
        except (ReplayError, OSError, ValueError) as exc:
            self.load_error = str(exc)
            return ModelResponse.failure(ErrorClass.BAD_REQUEST, str(exc), raw_request=request.describe())
        item_id = request.item_key.split("/", 1)[1] if "/" in request.item_key else request.item_key
        for key in (request.item_key, item_id, _stem(item_id)):
            if key in self.answers:
                text, line = self.answers[key]
                return ModelResponse(text=text, latency_ms=(time.perf_counter() - started) * 1000,
                                     model_id_resolved=self.spec.model or f"replay:{Path(self.file).name}",
                                     raw_request=request.describe(), stop_reason="stop",
                                     raw_response={"file": str(self.file), "row": line, "key": key})
        return ModelResponse.failure(
            ErrorClass.BAD_REQUEST,
            f"replay file {self.file} has no answer for item {request.item_key!r} (looked up {request.item_key!r}, "
            f"{item_id!r} and {_stem(item_id)!r})", raw_request=request.describe())


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs from a CSV/TSV or JSONL file."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ReplayError(f"replay file {path}, line {number}: not valid JSON ({exc.msg})") from exc
                if not isinstance(row, dict):
                    raise ReplayError(f"replay file {path}, line {number}: expected a JSON object per line")
                rows.append((number, row))
        return rows
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
        return [(number, row) for number, row in enumerate(csv.DictReader(handle, delimiter=delimiter), start=2)]
