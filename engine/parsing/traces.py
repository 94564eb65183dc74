"""Reasoning traces: an answer split into steps, and the scene-decomposition fields when present."""

from __future__ import annotations

import re
from typing import Any

from engine.parsing.cleaning import marked_matches

SCENE_FIELDS: dict[str, tuple[str, ...]] = {
    "global_atmosphere": ("global atmosphere", "overall atmosphere", "scene atmosphere", "global mood", "overall mood",
                          "atmosphere", "整体氛围", "全局氛围", "氛围"),
    "subject_emotion": ("subject emotion", "subject emotions", "subject's emotion", "subjects' emotions",
                        "emotion of the subject", "subject expression", "subject", "主体情绪", "主体情感", "人物情绪"),
    "situational_cues": ("situational cues", "situation cues", "situational context", "contextual cues", "context cues",
                         "cues", "情境线索", "情景线索", "场景线索"),
    "implicit_narrative": ("implicit narrative", "underlying narrative", "implied narrative", "underlying story",
                           "narrative", "隐含叙事", "隐含故事", "潜在叙事"),
    "answer": ("final answer", "final judgment", "final judgement", "answer", "conclusion", "最终答案", "答案", "结论"),
}
_ALIAS = {alias: name for name, aliases in SCENE_FIELDS.items() for alias in aliases}
# The field names no other field name lies inside: a text names some field exactly when it names one of these.
_BASE_ALIASES = tuple(a for a in _ALIAS if not any(o != a and o in a for o in _ALIAS))
_ALIAS_ALT = "|".join(re.escape(a) for a in sorted(_ALIAS, key=len, reverse=True))
# Linear by construction: every repetition over markdown prefixes is possessive (`*+`, `++`), so a line of
# 30 `#` or `** ` repeated is read once instead of being split every possible way (exponential time).
# What follows each prefix (a field name, "step") cannot start with a prefix character, so giving up
# backtracking loses no match.
_HEADER = re.compile(
    rf"^[ \t]*+(?:(?:#++|\*\*|__|step[ \t]*+\d++[ \t]*+[:.)\-–—]?+|\d++[.)]|[-*•])[ \t]*+)*+(?P<name>{_ALIAS_ALT})"
    r"[ \t]*+(?:\*\*|__)?+[ \t]*+(?:[:：\-–—][ \t]*+(?:\*\*|__)?|$)",
    re.I | re.M)
_STEP_HEADING = re.compile(r"^[ \t]*+(?:(?:#++|\*\*|__)[ \t]*+)*+(?:step|第)[ \t]*+\d++", re.I | re.M)
_LIST_ITEM = re.compile(r"^[ \t]*+(?:\d{1,2}[.)、]|[-*•])[ \t]+")
_LIST_ITEMS = re.compile(_LIST_ITEM.pattern, re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s++(?=[A-Z\"“(])|(?<=[。！？])")
_NEWLINES = re.compile(r"\n\n++")
_BLANK_LINE = re.compile(r"\n\s*\n")
_CORE = ("global_atmosphere", "subject_emotion", "situational_cues", "implicit_narrative")


def _clean(step: str) -> str:
    """Trailing blanks and blank lines removed. Line by line: `re.sub(r"\\s+\\n", ...)` rescans a long
    run of spaces from each of its positions (quadratic)."""
    stripped = step.strip()
    if "\n" not in stripped:  # one line: its blanks are all the clean-up there is
        return stripped
    lines = "\n".join([line.rstrip() for line in step.split("\n")])
    return _NEWLINES.sub("\n", lines).strip()


def split_steps(text: str) -> list[str]:
    """Split a reasoning text into steps: "Step N" headings, list items, paragraphs, then sentences.

    A bare one-line answer of at most 12 words has no steps.
    """
    text = text.strip()
    if not text:
        return []
    if len(_STEP_HEADING.findall(text)) >= 2:
        starts = [m.start() for m in _STEP_HEADING.finditer(text)]
        pieces = [text[:starts[0]]] + [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
        # A blank line ends a step: what follows the last step ("Final answer: ...") is a step of its own.
        return [_clean(p) for piece in pieces for p in (_BLANK_LINE.split(piece) if piece.count("\n") > 1 else [piece])
                if p.strip()]
    lines = text.splitlines()
    # Lines joined by "\n" (a line holds no line break), so one multi-line scan counts the list items.
    if len(_LIST_ITEMS.findall("\n".join(lines))) >= 2:
        steps: list[str] = []
        current: list[str] = []
        in_item = False
        for line in lines:
            if _LIST_ITEM.match(line) or not line.strip() or not in_item:
                if current:
                    steps.append("\n".join(current))
                current = [line] if line.strip() else []
                in_item = bool(_LIST_ITEM.match(line))
            else:
                current.append(line)
        if current:
            steps.append("\n".join(current))
        return [_clean(s) for s in steps if s.strip()]
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paragraphs) >= 2:
        return [_clean(p) for p in paragraphs]
    if "\n" not in text and len(text.split()) <= 12:
        return []
    if not any(mark in text for mark in ".!?。！？"):  # no sentence end: one sentence, unscanned
        return [_clean(text)]
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    return [_clean(s) for s in sentences]


def scene_from_text(text: str) -> dict[str, str] | None:
    """Scene fields from headed sections ("**Global atmosphere:** ..."); None unless two core fields appear."""
    headers = marked_matches(text, _BASE_ALIASES, _HEADER)
    if not headers:
        return None
    scene: dict[str, str] = {}
    for match, following in zip(headers, headers[1:] + [None]):
        name = _ALIAS[match.group("name").lower()]
        end = following.start() if following else len(text)
        body = _clean(re.sub(r"^\s*+(?:\*\*|__)\s*+", "", text[match.end():end]))
        if body and name not in scene:
            scene[name] = body
    return scene if sum(1 for f in _CORE if f in scene) >= 2 else None


def scene_from_json(flat: list[tuple[str, Any]]) -> dict[str, str] | None:
    """Scene fields from JSON keys (global_atmosphere, subject_emotion, ...); None unless two core fields."""
    scene: dict[str, str] = {}
    for path, value in flat:
        leaf = path.rsplit(".", 1)[-1].replace("_", " ")
        name = _ALIAS.get(leaf)
        if name is None or name in scene or isinstance(value, (dict, list)) and name != "answer":
            continue
        scene[name] = value if isinstance(value, str) else str(value)
    return scene if sum(1 for f in _CORE if f in scene) >= 2 else None


def steps_from_json(flat: list[tuple[str, Any]]) -> list[str] | None:
    """Steps from a JSON "reasoning"/"steps"/"rationale" field (a list or a text to split)."""
    for path, value in flat:
        leaf = path.rsplit(".", 1)[-1]
        if leaf in ("steps", "reasoning_steps", "reasoning", "rationale", "explanation", "analysis", "thoughts",
                    "chain_of_thought", "推理", "理由", "分析"):
            if isinstance(value, list):
                return [str(v).strip() for v in value if str(v).strip()]
            if isinstance(value, str) and value.strip():
                return split_steps(value) or [value.strip()]
    return None
