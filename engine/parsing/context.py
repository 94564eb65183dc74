"""What every dimension reader looks at: the cleaned answer, its JSON, its key-value lines and regions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.parsing.cleaning import (conclusion_region, final_region, fold, is_short_answer, mask_refusals,
                                     split_thinking)
from engine.parsing.jsonish import MAX_DEPTH, JsonFound, find_json, flatten
from engine.parsing.types import ParseSpec

# Keys (JSON, lower case with underscores) and line headings that carry each dimension.
KEYS: dict[str, tuple[str, ...]] = {
    "polarity": ("polarity", "sentiment", "sentiment_polarity", "emotional_polarity", "overall_sentiment",
                 "polarity_label", "sentiment_label", "overall_polarity", "image_sentiment", "情感极性", "极性",
                 "情感倾向", "情绪极性", "倾向"),
    "emotion": ("emotion", "emotion_label", "emotion_category", "primary_emotion", "dominant_emotion", "main_emotion",
                "predicted_emotion", "top_emotion", "overall_emotion", "final_emotion", "emotion_class", "category",
                "label", "情绪", "情感", "情绪类别", "主要情绪", "情感类别"),
    "ranking": ("ranking", "ranked_emotions", "emotion_ranking", "ranked_labels", "top_emotions", "emotions",
                "ranked", "ranked_list", "排序", "情绪排序"),
    "distribution": ("distribution", "emotion_distribution", "probabilities", "probs", "emotion_probabilities",
                     "scores", "emotion_scores", "label_distribution", "概率分布", "分布"),
    "valence": ("valence", "valence_score", "valence_rating", "pleasure", "pleasantness", "效价", "愉悦度"),
    "arousal": ("arousal", "arousal_score", "arousal_rating", "activation", "唤醒度", "唤醒", "激活度"),
    "intensity": ("intensity", "emotion_intensity", "emotional_intensity", "intensity_score", "intensity_rating",
                  "strength", "强度", "情绪强度"),
    "confidence": ("confidence", "confidence_score", "confidence_level", "certainty", "conf", "置信度", "信心",
                   "确定度"),
}
ANSWER_KEYS = ("answer", "final_answer", "prediction", "result", "output", "verdict", "答案", "最终答案")
VALUE_LEAVES = ("label", "value", "name", "category", "score", "rating", "class", "answer", "level")
# Possessive: a key never starts with one of these words alone ("final emotion" is read as prefix + "emotion").
_KV_PREFIX = r"(?:(?:the|final|overall|predicted|primary|dominant|main|top|most likely|detected|image|emotional)[ \t]++)*+"


def _kv_pattern(aliases: tuple[str, ...]) -> re.Pattern:
    alternation = "|".join(re.escape(a.replace("_", " ")) for a in sorted(aliases, key=len, reverse=True))
    return re.compile(
        rf"^[ \t]*+(?:(?:[-*•>]|\d{{1,2}}[.)]|#++|\*\*|__)[ \t]*+)*+{_KV_PREFIX}"
        rf"(?P<key>{alternation})(?:[ \t]*+[(（](?P<note>[^)）\n]{{0,40}})[)）])?[ \t]*+(?:\*\*|__)?+[ \t]*+"
        rf"(?:[:：=]|-{{1,2}}[ \t]|–|—)[ \t]*+(?:\*\*|__)?(?P<value>[^\n]*)", re.I | re.M)


KV_PATTERNS = {dim: _kv_pattern(aliases) for dim, aliases in KEYS.items()}
# Per dimension the key words no other of its key words lies inside: an answer holds some key word of a
# dimension exactly when it holds one of these (fewer substring searches over a long answer).
_BASE_KEY_WORDS = {dim: tuple(w for w in words if not any(o != w and o in w for o in words))
                   for dim, words in ((dim, {a.replace("_", " ") for a in aliases}) for dim, aliases in KEYS.items())}
# Another "Key:" on the same line ends a value: "Valence: 6, Arousal: 5", "Polarity: positive | Emotion: joy".
# No leading unbounded repetition (a split would rescan a long blank run from each of its positions):
# blanks before the key stay with the value, which is stripped.
_NEXT_KEY = re.compile(r"(?:[.;,|/]\s*+)?(?:\*\*)?\b(?:valence|arousal|intensity|confidence|polarity|sentiment|emotion"
                       r"|dominance|效价|唤醒度|强度|置信度|极性|情绪)\b\s*+(?:\*\*)?+\s*+[(:：=]", re.I)
# A key with its value on the following lines reads at most this much after it.
_FOLLOWING = 4000
_EMPHASIS_OR_BLANK = re.compile(r"[*_\s]")  # a value of these alone is read from the lines after its key


@dataclass
class Slot:
    """A piece of the answer that holds one dimension's value, with where it came from."""

    text: str
    span: str
    value: Any = None  # the JSON value when it came from JSON
    note: str | None = None  # "(1-7)" after a key


@dataclass
class Context:
    raw: str
    spec: ParseSpec
    answer: str = ""
    thinking: str | None = None
    masked: str = ""  # refusal sentences blanked
    refused: bool = False
    found_json: JsonFound | None = None
    flat: list[tuple[str, Any]] = field(default_factory=list)
    prose: str = ""  # masked text with the JSON blanked out
    memo: dict[Any, Any] = field(default_factory=dict)  # readings shared between readers

    @classmethod
    def build(cls, raw: str, spec: ParseSpec) -> "Context":
        ctx = cls(raw, spec)
        ctx.answer, ctx.thinking = split_thinking(raw)
        ctx.masked, ctx.refused = mask_refusals(ctx.answer)
        ctx.found_json = find_json(ctx.answer)
        prose = ctx.masked
        if ctx.found_json is not None:
            ctx.flat = flatten(ctx.found_json.value)
            start, end = ctx.found_json.start, ctx.found_json.end
            prose = prose[:start] + " " * (end - start) + prose[end:]
            prose = re.sub(r"```[a-zA-Z]*", lambda m: " " * len(m.group(0)), prose)
        ctx.prose = prose
        return ctx

    # JSON -----------------------------------------------------------------------------------------
    def json_slots(self, dimension: str | None, keys: tuple[str, ...] | None = None) -> list[Slot]:
        """JSON values under the dimension's keys (or `keys`), including {"emotion": {"label": ...}}."""
        keys = keys if keys is not None else KEYS[dimension or ""]
        memo_key = ("json", keys)
        if memo_key not in self.memo:  # asked for by several readers; an object may have thousands of keys
            self.memo[memo_key] = self._json_slots(keys)
        return list(self.memo[memo_key])

    @cached_property
    def json_leaves(self) -> list[tuple[str, str | None, Any]]:
        """(key, parent key or None, value) of every flattened JSON key."""
        leaves = []
        for path, value in self.flat:
            parts = path.rsplit(".", 2)
            leaves.append((parts[-1], parts[-2] if len(parts) > 1 else None, value))
        return leaves

    @cached_property
    def _leaves_by_name(self) -> dict[str, list[int]]:
        """Indexes into `json_leaves` by key and by parent key: a slot's key or its parent is one asked for."""
        index: dict[str, list[int]] = {}
        for position, (leaf, parent, _) in enumerate(self.json_leaves):
            index.setdefault(leaf, []).append(position)
            if parent is not None and parent != leaf:
                index.setdefault(parent, []).append(position)
        return index

    def _json_slots(self, keys: tuple[str, ...]) -> list[Slot]:
        slots = []
        index, leaves = self._leaves_by_name, self.json_leaves
        positions = sorted({position for key in keys for position in index.get(key, ())})
        for leaf, parent, value in (leaves[position] for position in positions):
            direct = leaf in keys and (leaf not in VALUE_LEAVES or parent is None or parent in keys)
            if direct or (parent in keys and leaf in VALUE_LEAVES):
                slots.append(Slot(_as_text(value), self._json_span(leaf, value), value))
        return slots

    @cached_property
    def _nested_paths(self) -> list[tuple[list[str], Any]]:
        """(key path split at its dots, value) of every JSON key below another."""
        return [(path.split("."), value) for path, value in self.flat if "." in path]

    def json_scale(self, dimension: str) -> tuple[float, float] | None:
        """A scale stated beside a JSON value: {"valence": {"score": 3, "scale": "1-7"}} or min/max keys."""
        found: dict[str, Any] = {}
        for parts, value in self._nested_paths:
            if parts[-2] in KEYS[dimension]:
                found[parts[-1]] = value
        if "scale" in found or "range" in found:
            from engine.parsing.scales import stated_scale

            scale, _ = stated_scale(f"scale {_as_text(found.get('scale', found.get('range')))}")
            return scale
        try:
            low = float(found.get("min", found.get("scale_min", found.get("low"))))
            high = float(found.get("max", found.get("scale_max", found.get("high"))))
        except (TypeError, ValueError):
            return None
        return (low, high) if low < high else None

    def _json_span(self, key: str, value: Any) -> str:
        if self.found_json is not None:
            body = self.answer[self.found_json.start:self.found_json.end]
            match = re.search(rf"[\"'“]?{re.escape(key)}[\"'”]?\s*+[:：]\s*+[^\n,}}]*+", body, re.I)
            if match:
                return match.group(0).strip()[:240]
        return f"{key}: {_as_text(value)}"[:240]

    # Lines and regions ---------------------------------------------------------------------------
    def kv_slots(self, dimension: str) -> list[Slot]:
        """Values of "Emotion: sad"-style lines for the dimension, last line first."""
        key = f"kv:{dimension}"
        if key not in self.memo:
            self.memo[key] = self._kv_slots(dimension)
        return list(self.memo[key])

    @cached_property
    def lowered(self) -> str:
        """The prose in lower case, for cheap checks that a key word occurs before running a pattern."""
        return fold(self.prose)

    def _kv_slots(self, dimension: str) -> list[Slot]:
        slots: list[Slot] = []
        if not any(word in self.lowered for word in _BASE_KEY_WORDS[dimension]):
            return slots  # no key word at all: skip trying the pattern at every line start (long answers)
        read: dict[str, str] = {}  # a value on its key's line, read once however often it repeats
        for match in KV_PATTERNS[dimension].finditer(self.prose):
            whole, raw, note = match.group(0, "value", "note")
            value = read.get(raw)
            if value is None:
                value = raw.strip()
                if not _EMPHASIS_OR_BLANK.sub("", value):  # the value lies on the following lines
                    following = self.prose[match.end():match.end() + _FOLLOWING].lstrip("\n")
                    block = re.split(r"\n\s*\n", following, maxsplit=1)[0]
                    value = block.strip() if dimension in ("ranking", "distribution") else block.split("\n")[0].strip()
                    value = _NEXT_KEY.split(value, maxsplit=1)[0].strip()
                else:
                    value = read[raw] = _NEXT_KEY.split(value, maxsplit=1)[0].strip()
            if value:
                slots.append(Slot(value, whole.strip()[:240], None, note))
        return slots[::-1]

    @cached_property
    def final(self) -> Slot | None:
        """The paragraph after the last "Final answer:" marker."""
        return self._region_slot(final_region(self.prose))

    @cached_property
    def conclusion(self) -> Slot | None:
        """From the last concluding phrase ("Therefore", "Overall") to its paragraph end."""
        return self._region_slot(conclusion_region(self.prose))

    def _region_slot(self, region: tuple[int, int] | None) -> Slot | None:
        if region is None:
            return None
        text = self.prose[region[0]:region[1]]
        return Slot(text, text.strip()[:240])

    @cached_property
    def short(self) -> Slot | None:
        """The whole answer when it is a bare one-line answer."""
        text = self.prose.strip()
        return Slot(text, text[:240]) if text and is_short_answer(text) else None

    def answer_slots(self) -> list[Slot]:
        """Generic answer places: JSON "answer" keys, the "Final answer:" paragraph, a bare answer."""
        slots = self.json_slots(None, ANSWER_KEYS)
        slots += [s for s in (self.final, self.short) if s is not None]
        return slots


def _as_text(value: Any, depth: int = 0) -> str:
    if isinstance(value, str):
        return value
    if depth >= MAX_DEPTH and isinstance(value, (list, dict)):
        return "..."
    if isinstance(value, list):
        return ", ".join(_as_text(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_as_text(v, depth + 1)}" for k, v in value.items())
    return "" if value is None else str(value)
