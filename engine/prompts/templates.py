"""Prompt template files: loading, composing the instruction text, and hashing what was used.

Templates are plain text under `engine/prompts/templates/<language>/<name>.txt` with `$name`
placeholders (`string.Template`, so JSON braces need no escaping). Block files (`dimensions`,
`placeholders`, `few-shot`) hold `[block]` sections; lines starting with "# " are comments.
A user's `template_dir` with the same layout overrides any file it has.

The answer format every strategy asks for is one JSON object with one key per configured
dimension, e.g. `{"polarity": "negative", "emotion": "sadness", "valence": 2.5, "confidence": 0.8}`:
labels are taxonomy names, numbers are on the scale stated in the prompt, `ranking` is a list of
labels best first and `distribution` an object {label: probability}. This is the format
`engine.parsing` reads first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from engine.parsing.types import DEFAULT_SCALES
from engine.prompts.base import StrategyContext, StrategyOptions
from engine.prompts.labels import EMOTION_DIMENSIONS, LANGUAGES, check_dimensions, label_list, label_orders, \
    polarity_taxonomy

TEMPLATE_ROOT = Path(__file__).resolve().parent / "templates"
_PACKAGED = str(TEMPLATE_ROOT)
#: Files every strategy's instructions are built from.
COMMON_TEMPLATES = ("preamble", "dimensions", "placeholders", "answer_format")
#: Default scale of stated confidence (the parser reads it into [0, 1]).
CONFIDENCE_SCALE = (0.0, 1.0)

_BLOCK = re.compile(r"^\[([A-Za-z_-]+)\]\s*$")
_PINNED: ContextVar[dict | None] = ContextVar("affectlens_pinned_templates", default=None)


@contextmanager
def pinned_templates() -> Iterator[None]:
    """Within this block (and the tasks started in it) each template file is located and read once.

    A run pins its templates: every item is prompted with the text whose hash the run stored at its
    start, even if a file is edited meanwhile, and no item pays for a file-system lookup.
    """
    token = _PINNED.set({})
    try:
        yield
    finally:
        _PINNED.reset(token)


def _pinned(key: tuple, find):
    pinned = _PINNED.get()
    if pinned is None:
        return find()
    found = pinned.get(key)
    if found is None:
        found = pinned[key] = find()
    return found


def available_languages(template_dir: str | None = None) -> list[str]:
    """Languages with a template folder (packaged, plus a user's `template_dir`)."""
    roots = [_PACKAGED] + ([template_dir] if template_dir else [])
    return _pinned(("languages", template_dir), lambda: sorted(
        {entry.name for root in roots if os.path.isdir(root) for entry in os.scandir(root) if entry.is_dir()}))


def _stamp(path: str) -> tuple[int, int] | None:
    """(mtime, size) of a file, None when it does not exist; an edit changes one or the other."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


def template_path(name: str, language: str, template_dir: str | None = None) -> Path:
    """The file a template is read from: the user's folder first, then the packaged one."""
    return Path(_locate(name, language, template_dir)[0])


def _locate(name: str, language: str, template_dir: str | None) -> tuple[str, tuple[int, int]]:
    """(path, stamp) of the file a template is read from -- one `stat` per folder looked in."""
    return _pinned((name, language, template_dir), lambda: _find(name, language, template_dir))


def _find(name: str, language: str, template_dir: str | None) -> tuple[str, tuple[int, int]]:
    file = f"{name}.txt"
    for root in ([template_dir] if template_dir else []) + [_PACKAGED]:
        path = os.path.join(root, language, file)
        stamp = _stamp(path)
        if stamp is not None:
            return path, stamp
    if language not in available_languages(template_dir):
        raise ValueError(f"prompt language {language!r} has no templates; choose one of: "
                         f"{', '.join(available_languages(template_dir))} (or add {language}/ to a template_dir)")
    raise FileNotFoundError(f"prompt template {language}/{name}.txt not found in {TEMPLATE_ROOT}"
                            + (f" or {template_dir}" if template_dir else ""))


@lru_cache(maxsize=256)
def _read(path: str, stamp: tuple[int, int]) -> str:  # the stamp in the key: an edited file is re-read
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def load_template(name: str, language: str, template_dir: str | None = None) -> str:
    """A template file's text."""
    return _read(*_locate(name, language, template_dir))


def load_blocks(name: str, language: str, template_dir: str | None = None) -> dict[str, str]:
    """A block file as {block name: text}, comment lines dropped, surrounding blank lines trimmed."""
    return dict(_blocks(*_locate(name, language, template_dir)))


@lru_cache(maxsize=64)
def _blocks(path: str, stamp: tuple[int, int]) -> dict[str, str]:
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _read(path, stamp).splitlines():
        if line.startswith("# ") or line == "#":
            continue
        match = _BLOCK.match(line)
        if match:
            current = blocks.setdefault(match.group(1), [])
        elif current is not None:
            current.append(line)
    return {key: "\n".join(lines).strip("\n") for key, lines in blocks.items()}


def templates_digest(names: tuple[str, ...], options: StrategyOptions, version: str, **text_options: object) -> str:
    """sha256 over the named templates' text, the strategy version and the options that change the text."""
    digest = hashlib.sha256()
    template_dir = options.get("template_dir")
    for name in (*COMMON_TEMPLATES, *names):
        digest.update(f"{name}\x00{load_template(name, options.language, template_dir)}\x00".encode())
    settings = {
        "version": version,
        "language": options.language,
        "system_prompt": options.system_prompt,
        "shuffle_labels": options.shuffle_labels,
        "seed": options.seed if options.shuffle_labels else None,
        "polarity_taxonomy": options.get("polarity_taxonomy"),
        **text_options,
    }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _number(value: float) -> str:
    return f"{value:g}"


def scale_of(context: StrategyContext, dimension: str) -> tuple[float, float]:
    """The scale stated for a numeric dimension: the task's, else DEFAULT_SCALES, else 0-1 for confidence."""
    low, high = context.task.scales.get(dimension) or DEFAULT_SCALES.get(dimension) or CONFIDENCE_SCALE
    if not float(low) < float(high):
        raise ValueError(f"scale of {dimension!r} must be LOW < HIGH, got {low}-{high}")
    return float(low), float(high)


@dataclass(frozen=True)
class Instructions:
    """The pieces of text shared by every strategy, rendered for one item."""

    preamble: str
    dimensions: str  # one line per configured dimension
    keys: str  # "polarity", "emotion", ...
    example: str  # schematic JSON answer
    answer_format: str  # "Give the final answer as one JSON object ..."

    def fill(self, template: str, **values: object) -> str:
        """Substitute these pieces (and `values`) into a strategy template."""
        return Template(template).substitute(preamble=self.preamble, dimensions=self.dimensions, keys=self.keys,
                                             example=self.example, answer_format=self.answer_format,
                                             **{k: str(v) for k, v in values.items()}).strip()


def instructions(context: StrategyContext) -> Instructions:
    """What to report and in which format, for the configured dimensions only."""
    language, template_dir = context.options.language, context.options.get("template_dir")
    dims = check_dimensions(context.task.dimensions)
    orders = label_orders(context)
    blocks = load_blocks("dimensions", language, template_dir)
    placeholders = load_blocks("placeholders", language, template_dir)
    lines, example = [], []
    for dim in dims:
        values: dict[str, str] = {}
        if dim == "polarity":
            labels = orders["polarity"]
            values = {"labels": label_list(labels, polarity_taxonomy(context), language), "n": str(len(labels))}
        elif dim in EMOTION_DIMENSIONS:
            labels = orders["emotion"]
            values = {"labels": label_list(labels, context.task.taxonomy, language), "n": str(len(labels))}
        else:
            low, high = scale_of(context, dim)
            values = {"low": _number(low), "mid": _number((low + high) / 2), "high": _number(high)}
        lines.append(Template(blocks[dim]).substitute(values))
        example.append(f'  "{dim}": ' + Template(placeholders[dim]).substitute(values))
    keys = ", ".join(f'"{d}"' for d in dims)
    example_text = "{\n" + ",\n".join(example) + "\n}"
    answer_format = Template(load_template("answer_format", language, template_dir).strip()).substitute(
        keys=keys, example=example_text)
    return Instructions(load_template("preamble", language, template_dir).strip(), "\n".join(lines), keys,
                        example_text, answer_format)


def answer_schema(context: StrategyContext) -> dict:
    """JSON schema of the answer object for vendors' structured-output modes.

    One required property per configured dimension, labels as enums in the presented order, no
    other properties (OpenAI's strict mode needs `additionalProperties: false` and every property
    required). It keeps to the subset all three vendors accept: Anthropic's structured outputs
    reject numeric bounds (`minimum`/`maximum`) and `minItems` above 1, so scales and the ranking's
    length are stated in `description` (and in the prompt), and the parser flags values outside them.
    """
    dims = check_dimensions(context.task.dimensions)
    orders = label_orders(context)
    properties: dict[str, dict] = {}
    for dim in dims:
        if dim == "polarity":
            properties[dim] = {"type": "string", "enum": orders["polarity"]}
        elif dim == "emotion":
            properties[dim] = {"type": "string", "enum": orders["emotion"]}
        elif dim == "ranking":
            labels = orders["emotion"]
            properties[dim] = {"type": "array", "items": {"type": "string", "enum": labels},
                               "description": f"all {len(labels)} labels, most strongly conveyed first"}
        elif dim == "distribution":
            labels = orders["emotion"]
            properties[dim] = {"type": "object", "properties": {lab: {"type": "number"} for lab in labels},
                               "required": list(labels), "additionalProperties": False,
                               "description": "probability of each label, from 0 to 1, summing to 1"}
        else:
            low, high = scale_of(context, dim)
            properties[dim] = {"type": "number", "description": f"from {_number(low)} to {_number(high)}"}
    return {"title": "emotion_answer", "type": "object", "properties": properties, "required": list(dims),
            "additionalProperties": False}


def check_language(options: StrategyOptions) -> None:
    """Raise a clear error for a prompt language without templates."""
    languages = available_languages(options.get("template_dir"))
    if options.language not in languages:
        raise ValueError(f"prompt language {options.language!r} has no templates; choose one of: "
                         f"{', '.join(languages or LANGUAGES)}")
