"""Lenient JSON: find the object a model meant to write and repair the usual damage.

Fenced (```json) or bare objects inside prose; single quotes, Python literals (True/None),
unquoted keys and bare-word values, trailing commas, full-width punctuation (：，“”), and answers
cut off mid-object (open strings and brackets are closed, a dangling key gets null).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:json5?|JSON|javascript|js|python)?[ \t]*\n?(.*?)(?:```|$)", re.S)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_LITERALS = {"True": "true", "False": "false", "None": "null", "NaN": "null"}
_UNQUOTED_KEY = re.compile(r"([{,]\s*)([A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff\- ]{0,40}?)(\s*:)")
_BARE_VALUE = re.compile(r"(:\s*)([A-Za-z_\u4e00-\u9fff][^,{}\[\]\n]{0,200}?)(\s*(?:[,}\]\n]|$))")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_LITERAL = re.compile(r"\b(True|False|None|NaN)\b")
_WORDISH = re.compile(r"[A-Za-z_\u4e00-\u9fff]")
_DECODER = json.JSONDecoder(strict=False)


@dataclass
class JsonFound:
    value: Any  # dict or list
    start: int  # offsets of the source in the answer text
    end: int
    repaired: bool


def find_json(text: str) -> JsonFound | None:
    """The first JSON object (or list) in `text` that parses after repair, or None."""
    candidates: list[tuple[int, int]] = []
    for fence in _FENCE.finditer(text):
        body = fence.group(1)
        lead = body.find("{") if "{" in body else body.find("[")
        if lead >= 0:
            candidates.append((fence.start(1) + lead, fence.end(1)))
    for opener in ("{", "["):
        at = text.find(opener)
        if at >= 0:
            candidates.append((at, len(text)))
    for start, end in sorted(set(candidates), key=lambda c: (text[c[0]] != "{", c[0])):
        found = _parse_from(text, start, end)
        if found is not None:
            return found
    return None


def _parse_from(text: str, start: int, end: int) -> JsonFound | None:
    try:  # well-formed JSON (the usual case) ends where the decoder stops: nothing to repair
        value, stop = _DECODER.raw_decode(text[:end], start)
    except (ValueError, RecursionError):
        pass
    else:
        return JsonFound(value, start, stop, False) if _useful(value) else None
    try:
        repaired, stop = _repair(text[start:end])
    except _TooDeep:
        return None
    source = text[start:start + stop]
    for attempt in (source, repaired):
        try:
            value = json.loads(attempt, strict=False)
        except (ValueError, RecursionError):
            continue
        if _useful(value):
            return JsonFound(value, start, start + stop, attempt is not source)
    try:
        value = ast.literal_eval(source.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if _useful(value):
        return JsonFound(value, start, start + stop, True)
    return None


def _useful(value: Any) -> bool:
    """A non-empty object, or a list holding words or objects (not a citation like [1])."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and any(isinstance(v, (str, dict)) for v in value)


_OPEN_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
_PUNCT = {"：": ":", "，": ",", "｛": "{", "｝": "}", "［": "[", "］": "]"}


# What the repair must look at: outside a string its quotes, brackets and full-width punctuation; inside
# one its backslashes, its closing quote, a bare `"` and a newline. Runs between them are copied whole.
_OUTSIDE = re.compile("[" + re.escape("".join(_OPEN_QUOTES) + "{[}]" + "".join(_PUNCT)) + "]")
_INSIDE = {quote: re.compile("[" + re.escape('\\\n"' + closing) + "]") for quote, closing in _OPEN_QUOTES.items()}


class _TooDeep(Exception):
    """Nesting deeper than `json.loads` and `ast.literal_eval` can read: no repair can make it parse."""


def _depth_limit() -> int:
    # json.loads recurses once per level (RecursionError past the interpreter's limit); Python's own
    # parser refuses more than 200 nested brackets. Past both, every attempt in `_parse_from` fails.
    return max(sys.getrecursionlimit(), 200)


def _repair(chunk: str) -> tuple[str, int]:
    """Rewrite `chunk` (starting at `{` or `[`) into strict JSON; also return where the value ended.

    Raises `_TooDeep` when the brackets nest past `_depth_limit()`."""
    out: list[str] = []
    stack: list[str] = []
    closing: str | None = None
    inside: re.Pattern | None = None
    limit = _depth_limit()
    i, n = 0, len(chunk)
    while i < n:
        special = (inside or _OUTSIDE).search(chunk, i)
        j = special.start() if special else n
        if j > i:
            out.append(chunk[i:j])
        if j >= n:
            i = n
            break
        c = chunk[j]
        i = j + 1
        if closing is not None:
            if c == "\\":
                if i < n:
                    out.append(chunk[j:i + 1])
                    i += 1
                else:
                    out.append(c)
            elif c == closing:
                out.append('"')
                closing, inside = None, None
            elif c == '"':
                out.append('\\"')
            else:  # a newline
                out.append("\\n")
        elif c in _OPEN_QUOTES:
            closing, inside = _OPEN_QUOTES[c], _INSIDE[c]
            out.append('"')
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
            if len(stack) > limit:
                raise _TooDeep
            out.append(c)
        elif c in "}]":
            if stack:
                stack.pop()
            out.append(c)
            if not stack:
                break
        else:
            out.append(_PUNCT[c])
    if closing is not None:
        out.append('"')
    body = "".join(out)
    if stack:
        body = _strip_trailing(body)
        if body.endswith(":"):
            body += " null"
        elif stack[-1] == "}" and re.search(r'[{,]\s*"(?:[^"\\]|\\.)*"$', body):
            body += ": null"
        body += "".join(reversed(stack))
    return _fix_bare(body), i


def _strip_trailing(body: str) -> str:
    """`body` without trailing blanks and commas (a `[\\s,]+$` search rescans a long blank run from each
    of its positions)."""
    body = body.rstrip()
    while body.endswith(","):
        body = body[:-1].rstrip()
    return body


def _fix_bare(body: str) -> str:
    """Outside strings: Python literals, unquoted keys and values, trailing commas."""
    pieces: list[str] = []
    last = 0
    for match in _STRING.finditer(body):
        pieces.append(_fix_outside(body[last:match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_fix_outside(body[last:]))
    return "".join(pieces)


def _fix_outside(segment: str) -> str:
    if _WORDISH.search(segment):  # literals, keys and bare values all start with a letter
        segment = _LITERAL.sub(lambda m: _LITERALS[m.group(1)], segment)
        segment = _UNQUOTED_KEY.sub(lambda m: f'{m.group(1)}"{m.group(2).strip()}"{m.group(3)}', segment)
        segment = _BARE_VALUE.sub(_quote_bare, segment)
    return _TRAILING_COMMA.sub(r"\1", segment) if "," in segment else segment


def _quote_bare(match: re.Match) -> str:
    word = match.group(2).strip()
    if word in ("true", "false", "null") or re.fullmatch(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", word):
        return match.group(0)
    return f'{match.group(1)}"{word}"{match.group(3)}'


#: Objects nested deeper than this are not walked into (no answer nests so deep; a degenerate one
#: such as '{"a": ' * 10000 would otherwise cost time quadratic in its depth, or a RecursionError).
MAX_DEPTH = 16


def flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """(dotted lower-case key path, leaf or list/dict value) for every key of a nested object.

    Dicts are listed both as a whole (for distributions) and by their children, down to `MAX_DEPTH`.
    """
    found: list[tuple[str, Any]] = []
    if depth >= MAX_DEPTH:
        return found
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{_key(key)}" if prefix else _key(key)
            found.append((path, child))
            if isinstance(child, dict):
                found.extend(flatten(child, path, depth + 1))
            elif isinstance(child, list):
                for element in child:
                    if isinstance(element, dict):
                        found.extend(flatten(element, path, depth + 1))
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, dict):
                found.extend(flatten(element, prefix, depth + 1))
    return found


_KEY_GAP = re.compile(r"[\s\-]+")


def _key(key: Any) -> str:
    lowered = str(key).strip().lower()
    return lowered if lowered.isidentifier() else _KEY_GAP.sub("_", lowered)  # an identifier has no blank or "-"
