"""One answer parser for every model, strategy and dimension.

`parse_answer(text, spec)` reads an answer; `aggregate` combines self-consistency samples;
`predictions_from_parse` and `trace_row` turn a parse into store rows; `reparse_run` re-reads the
stored raw answers of a run with the current `PARSER_VERSION`; `Judge` maps answers the rules
cannot read onto the label set with a model.
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.parsing.aggregate import aggregate
from engine.parsing.parser import KNOWN_DIMENSIONS, PARSER_VERSION, parse_answer
from engine.parsing.rows import predictions_from_parse, trace_row
from engine.parsing.types import DEFAULT_SCALES, DimensionParse, ParseResult, ParseSpec

__all__ = ["PARSER_VERSION", "KNOWN_DIMENSIONS", "DEFAULT_SCALES", "DimensionParse", "ParseResult", "ParseSpec",
           "parse_answer", "aggregate", "predictions_from_parse", "trace_row", "reparse", "reparse_run",
           "spec_for_run", "Judge"]

# The store-backed and model-backed parts load on first use, so `parse_answer` stays a light import.
_LAZY = {"reparse": "engine.parsing.reparse", "reparse_run": "engine.parsing.reparse",
         "spec_for_run": "engine.parsing.reparse", "Judge": "engine.parsing.judge"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine.parsing' has no attribute {name!r}")
