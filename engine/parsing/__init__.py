"""One answer parser for every model, strategy and dimension.

`parse_answer(text, spec)` reads an answer; `aggregate` combines self-consistency samples;
`predictions_from_parse` and `trace_row` turn a parse into store rows. The parser reads text into
values only: re-reading a stored run (`engine.runner.reparse`) and the model judge
(`engine.runner.judge`) live in the runner, which owns the store and the models.
"""

from __future__ import annotations

from engine.parsing.aggregate import aggregate
from engine.parsing.parser import KNOWN_DIMENSIONS, PARSER_VERSION, parse_answer
from engine.parsing.rows import predictions_from_parse, trace_row
from engine.parsing.types import DEFAULT_SCALES, DimensionParse, ParseResult, ParseSpec

__all__ = ["PARSER_VERSION", "KNOWN_DIMENSIONS", "DEFAULT_SCALES", "DimensionParse", "ParseResult", "ParseSpec",
           "parse_answer", "aggregate", "predictions_from_parse", "trace_row"]
