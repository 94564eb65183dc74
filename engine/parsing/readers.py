"""One reader per dimension. Each walks the answer's sources from most to least explicit and stops at
the first that yields a reading: JSON keys, "Key: value" lines (last first), the "Final answer:"
paragraph or a bare one-line answer, lists and distributions, the concluding sentence, then the
whole text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from engine.parsing.cleaning import mentions_any
from engine.parsing.context import Context, Slot
from engine.parsing.labels import (NONE_WORDS, choose, distribution_pairs, label_match, mentions, read_free, read_list,
                                   read_slot, sentence_at)
from engine.parsing.scales import PLAIN_NUMBER, read_level, read_number, stated_scale
from engine.parsing.types import DimensionParse
from engine.taxonomy import get_taxonomy

CONTINUOUS = ("valence", "arousal", "intensity")
_DIM_WORDS = {
    "valence": r"valence|pleasantness|效价|愉悦度",
    "arousal": r"arousal|activation|唤醒度|唤醒",
    "intensity": r"intensity|强度",
}
_ANY_DIM_WORD = re.compile("|".join(_DIM_WORDS.values()) + r"|confidence|置信度|polarity|sentiment", re.I)


def _first(readings: Iterable[DimensionParse | None]) -> DimensionParse | None:
    for reading in readings:
        if reading is not None:
            return reading
    return None


def _best(readings: Iterable[DimensionParse | None]) -> DimensionParse | None:
    """The first "ok" reading, else the first reading at all (a garbled last line must not win)."""
    fallback = None
    for reading in readings:
        if reading is not None and reading.status == "ok":
            return reading
        fallback = fallback or reading
    return fallback


def _with_span(reading: DimensionParse | None, slot: Slot) -> DimensionParse | None:
    if reading is not None:
        reading.span = slot.span
    return reading


# Categorical --------------------------------------------------------------------------------------
def _label_from_value(slot: Slot, taxonomy: str) -> DimensionParse | None:
    value = slot.value
    if isinstance(value, list):
        ranked = _ranked_from_values(value, taxonomy)
        if ranked and ranked[0][0] is not None:
            return DimensionParse(ranked[0][0], "ok", slot.span, ranked[0][1])
        return None
    if isinstance(value, dict):
        dist = _distribution_from_mapping(value, taxonomy)
        return None if dist is None or dist.value is None else DimensionParse(
            _argmax(dist.value), dist.status, slot.span, dist.raw)
    if value is None and not slot.text.strip():  # {"emotion": null}: an explicit non-answer
        return DimensionParse(None, "failed", slot.span)
    return _with_span(read_slot(slot.text, taxonomy), slot)


def read_categorical(ctx: Context, dimension: str) -> DimensionParse:
    """Polarity or emotion (`dimension`), against the spec's taxonomy for it."""
    spec = ctx.spec
    taxonomy = spec.polarity_taxonomy if dimension == "polarity" else spec.taxonomy
    sources: list = [lambda: _best(_label_from_value(s, taxonomy) for s in ctx.json_slots(dimension)),
                     lambda: _best(_with_span(read_slot(s.text, taxonomy), s) for s in ctx.kv_slots(dimension))]
    if dimension == "polarity":
        # An emotion named in its own slot gives the polarity through the taxonomy (status ok).
        sources += [lambda: _best(_label_from_value(s, taxonomy) for s in ctx.json_slots("emotion")),
                    lambda: _best(_with_span(read_slot(s.text, taxonomy), s) for s in ctx.kv_slots("emotion"))]
    sources.append(lambda: _first(_label_from_value(s, taxonomy) for s in ctx.answer_slots()))
    if dimension == "emotion":
        sources.append(lambda: _argmax_reading(read_distribution(ctx)))
        sources.append(lambda: _list_first(ctx, taxonomy))
    sources += [lambda: _free(ctx.conclusion, taxonomy), lambda: _free(Slot(ctx.prose, ""), taxonomy)]
    for source in sources:
        reading = source()
        if reading is not None:
            return _stated_polarity(ctx, reading, taxonomy) if dimension == "polarity" else reading
    return DimensionParse()


def _stated_polarity(ctx: Context, reading: DimensionParse, taxonomy: str) -> DimensionParse:
    """A polarity the answer states wins over one derived from an emotion word: "The image is negative
    overall. Emotion: surprise" is negative. A reading from an emotion word is marked `derived`."""
    if reading.value is None or _states_polarity(reading.span or reading.raw or "", taxonomy):
        return reading
    stated = [m for m in mentions(ctx.prose, taxonomy) if m.explicit and not m.negated and m.label]
    if stated:
        found = choose(stated, ctx.prose)
        if found is not None and found.value is not None:
            return found
    reading.method = "derived"
    return reading


def _states_polarity(text: str, taxonomy: str) -> bool:
    return any(m.explicit and not m.negated for m in mentions(text, taxonomy))


def _free(slot: Slot | None, taxonomy: str) -> DimensionParse | None:
    return None if slot is None else read_free(slot.text, taxonomy)


def _argmax(distribution: dict[str, float]) -> str | None:
    return max(distribution, key=lambda k: distribution[k]) if distribution else None


def _argmax_reading(dist: DimensionParse | None) -> DimensionParse | None:
    if dist is None or not dist.value:
        return None
    return DimensionParse(_argmax(dist.value), "ok" if dist.status == "ok" else "partial", dist.span, dist.raw)


def _list_first(ctx: Context, taxonomy: str) -> DimensionParse | None:
    found = _text_ranking(ctx, taxonomy)
    if found and found[0][0][0] is not None:
        return DimensionParse(found[0][0][0], "ok", found[1], found[0][0][1])
    return None


# Ranking ------------------------------------------------------------------------------------------
def _ranked_from_values(values: list, taxonomy: str) -> list[tuple[str | None, str]] | None:
    ranked: list[tuple[str | None, str]] = []
    for element in values:
        if isinstance(element, dict):
            element = next((element[k] for k in ("label", "emotion", "name", "category") if k in element), None)
        if not isinstance(element, str) or not element.strip():
            continue
        match = label_match(element, taxonomy)
        label = None if match is None else match.label
        if label is None:
            hits = [m for m in mentions(element, taxonomy) if not m.negated and m.label]
            label = hits[0].label if hits else None
        if label is None or label not in [r[0] for r in ranked]:
            ranked.append((label, element.strip()))
    return ranked or None


def _text_ranking(ctx: Context, taxonomy: str) -> tuple[list[tuple[str | None, str]], str] | None:
    """A ranked list in the prose: the final answer paragraph first, else the last list block."""
    if ctx.final is not None:
        ranked = read_list(ctx.final.text, taxonomy)
        if ranked:
            return ranked, ctx.final.span
    key = f"text_ranking:{taxonomy}"
    if key not in ctx.memo:  # read by the emotion and ranking readers alike
        ctx.memo[key] = _last_list(ctx.prose, taxonomy)
    return ctx.memo[key]


def _last_list(prose: str, taxonomy: str) -> tuple[list[tuple[str | None, str]], str] | None:
    """The last line, else the last block, that reads as a ranked list. A text already tried is not read
    again: answers of many repeated lines cost one `read_list` per distinct line, not one per line."""
    blocks = [b for b in re.split(r"\n\s*\n", prose) if b.strip()]
    lines = [line for line in prose.splitlines() if line.strip()]
    tried: set[str] = set()
    for candidate in reversed(blocks + lines):
        if candidate in tried:
            continue
        tried.add(candidate)
        ranked = read_list(candidate, taxonomy)
        if ranked:
            return ranked, candidate.strip()[:240]
    return None


def _ranking_reading(ranked: list[tuple[str | None, str]], span: str, status: str = "ok") -> DimensionParse:
    labels = [label for label, _ in ranked]
    if all(label is None for label in labels):
        return DimensionParse(None, "partial", span, ", ".join(raw for _, raw in ranked))
    unknown = [raw for label, raw in ranked if label is None]
    return DimensionParse(labels, "partial" if unknown else status, span, ", ".join(unknown) or None)


def read_ranking(ctx: Context) -> DimensionParse:
    """A list of labels, best first (unknown words kept as None in place)."""
    taxonomy = ctx.spec.taxonomy
    for slot in ctx.json_slots("ranking") + ctx.json_slots("emotion"):
        if isinstance(slot.value, list):
            ranked = _ranked_from_values(slot.value, taxonomy)
            if ranked:
                return _ranking_reading(ranked, slot.span)
    for slot in ctx.kv_slots("ranking"):
        ranked = read_list(slot.text, taxonomy)
        if ranked:
            return _ranking_reading(ranked, slot.span)
        single = read_slot(slot.text, taxonomy)
        if single is not None and single.value is not None:
            return DimensionParse([single.value], single.status, slot.span, single.raw)
    dist = read_distribution(ctx)
    if dist is not None and dist.value:
        order = [k for k, v in sorted(dist.value.items(), key=lambda kv: -kv[1]) if v > 0]
        return DimensionParse(order, dist.status, dist.span, dist.raw)
    found = _text_ranking(ctx, taxonomy)
    if found:
        return _ranking_reading(*found)
    emotion = read_categorical(ctx, "emotion")
    if emotion.value is not None:
        live = [m for m in mentions(ctx.prose, taxonomy) if not m.negated and m.label]
        order = list(dict.fromkeys([emotion.value] + [m.label for m in live]))
        return DimensionParse(order, "partial", emotion.span, emotion.raw)
    return DimensionParse(None, emotion.status if emotion.status == "partial" else "failed", emotion.span, emotion.raw)


# Distribution -------------------------------------------------------------------------------------
def _distribution_from_mapping(mapping: dict, taxonomy: str) -> DimensionParse | None:
    pairs = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            value = next((value[k] for k in ("probability", "prob", "score", "value", "p") if k in value), None)
        try:
            number = float(str(value).strip().rstrip("%％"))
        except (TypeError, ValueError):
            return None
        match = label_match(str(key), taxonomy)
        pairs.append((None if match is None else match.label, str(key), number))
    if sum(1 for label, _, _ in pairs if label) < 2 and not (len(pairs) >= 1 and all(p[0] for p in pairs)):
        return None
    return _normalised(pairs, taxonomy, "")


def _normalised(pairs: list[tuple[str | None, str, float]], taxonomy: str, span: str) -> DimensionParse | None:
    if any(number < 0 for _, _, number in pairs):
        return DimensionParse(None, "failed", span, "negative probability")
    mass: dict[str, float] = {name: 0.0 for name in get_taxonomy(taxonomy).names}
    unknown = []
    for label, key, number in pairs:
        if label is None:
            unknown.append(key)
        else:
            mass[label] += number
    total = sum(mass.values())
    if total <= 0:
        return None
    return DimensionParse({k: round(v / total, 6) for k, v in mass.items()}, "partial" if unknown else "ok",
                          span, ", ".join(unknown) or None)


def read_distribution(ctx: Context) -> DimensionParse | None:
    """Probabilities over the taxonomy (renormalised to sum to 1; unlisted labels 0), or None."""
    if "distribution" not in ctx.memo:  # read by the emotion, ranking and distribution readers alike
        ctx.memo["distribution"] = _read_distribution(ctx)
    found = ctx.memo["distribution"]
    return None if found is None else DimensionParse(dict(found.value) if found.value else found.value, found.status,
                                                     found.span, found.raw, found.method)


def _read_distribution(ctx: Context) -> DimensionParse | None:
    taxonomy = ctx.spec.taxonomy
    for slot in ctx.json_slots("distribution") + ctx.json_slots("emotion") + ctx.json_slots("ranking"):
        value = slot.value
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = {next((str(v[k]) for k in ("label", "emotion", "name") if k in v), "?"):
                     next((v[k] for k in ("probability", "prob", "score", "value", "p") if k in v), None)
                     for v in value}
        if isinstance(value, dict):
            found = _distribution_from_mapping(value, taxonomy)
            if found is not None:
                found.span = slot.span
                return found
    if ctx.found_json is not None and isinstance(ctx.found_json.value, dict):
        found = _distribution_from_mapping(ctx.found_json.value, taxonomy)
        if found is not None:
            found.span = ctx.answer[ctx.found_json.start:ctx.found_json.end][:240]
            return found
    pairs = distribution_pairs(ctx.prose, taxonomy)
    if sum(1 for label, *_ in pairs if label) >= 2:
        span = _pair_span(ctx.prose, pairs)
        return _normalised([(label, key, number) for label, key, number, _ in pairs], taxonomy, span)
    return None


def _pair_span(text: str, pairs: list) -> str:
    first = text.lower().find(pairs[0][1].lower())
    return text[max(0, first):max(0, first) + 240].split("\n\n")[0].strip() if first >= 0 else ""


# Continuous ---------------------------------------------------------------------------------------
def _number_from_value(slot: Slot, dimension: str, scale: tuple[float, float], stated) -> DimensionParse | None:
    value = slot.value
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        return None
    if isinstance(value, (int, float)):
        text = f"{value}" + (f" (scale {stated[0]}-{stated[1]})" if stated else "")
        return _with_span(read_number(text, dimension, scale), slot)
    return _with_span(read_number(slot.text, dimension, scale), slot)


_CONNECTOR = re.compile(r"^\s*(?:\([^)]{0,30}\)\s*)?(?:score|level|rating|value)?\s*(?:is|was|are|seems|appears|looks|feels"
                        r"|would be|remains|sits|being|of|at|as|around|about|:|：|=|-|—|–|为|是)?\s*"
                        r"(?:(?:quite|rather|likely|probably|also|overall|generally|rated|approximately|roughly|a|an)\s+)*",
                        re.I)


_NUMBER_BEFORE = re.compile(r"(?<![\w.])([-+]?\d+(?:\.\d+)?(?:\s*/\s*\d+)?)\s+(?:on|for|in)\s+(?:the|its|this)?\s*$", re.I)


MAX_MENTIONS = 300


def _free_number(ctx: Context, dimension: str, scale: tuple[float, float]) -> DimensionParse | None:
    """"valence of about 3 (1-7)", "the arousal is moderately high", "low valence", "唤醒度较高"."""
    text = ctx.prose
    if not mentions_any(ctx.lowered, tuple(_DIM_WORDS[dimension].split("|"))):
        return None
    for count, match in enumerate(re.finditer(_DIM_WORDS[dimension], text, re.I)):
        if count >= MAX_MENTIONS:  # a degenerate answer ("Valence: " 10,000 times) is read from its first ones
            break
        window = text[match.end():match.end() + 70]
        window = re.split(r"(?<!\d)[.;\n。；](?!\d)|\bwhile\b|\bwhereas\b|\bbut\b", window, maxsplit=1)[0]
        other = _ANY_DIM_WORD.search(window)
        window = window[:other.start()] if other else window
        head = window[:50]
        if PLAIN_NUMBER.search(head):
            if stated_scale(head)[0] is None:
                sentence_scale = stated_scale(sentence_at(text, match.start()))[0]
                if sentence_scale is not None:
                    head = f"{head} (scale {sentence_scale[0]:g}-{sentence_scale[1]:g})"
            reading = read_number(head, dimension, scale, allow_words=False)
            if reading is not None:
                reading.span = sentence_at(text, match.start())
                return reading
        before = text[max(0, match.start() - 40):match.start()]
        number = _NUMBER_BEFORE.search(before)
        if number:  # "a 2 on the valence scale (1-9)"
            scale_text = stated_scale(head)[0] or stated_scale(sentence_at(text, match.start()))[0]
            stated = f" (scale {scale_text[0]:g}-{scale_text[1]:g})" if scale_text else ""
            reading = read_number(number.group(1) + stated, dimension, scale, allow_words=False)
            if reading is not None:
                reading.span = sentence_at(text, match.start())
                return reading
        rest = window[_CONNECTOR.match(window).end():]
        level = read_level(rest[:30], dimension, where="start")
        if level is not None:
            return _level_reading(level, scale, sentence_at(text, match.start()))
        before = re.split(r"[,.;:，。；：]|\band\b", text[max(0, match.start() - 30):match.start()])[-1]
        level = read_level(before, dimension, where="end")
        if level is not None:
            return _level_reading(level, scale, sentence_at(text, match.start()))
    return None


def _level_reading(level: tuple[float, str], scale: tuple[float, float], span: str) -> DimensionParse:
    low, high = scale
    return DimensionParse(round(low + level[0] * (high - low), 4), "ok", span, level[1])


def read_continuous(ctx: Context, dimension: str) -> DimensionParse:
    """Intensity, valence or arousal as a number on the spec's scale for it."""
    scale = ctx.spec.scale(dimension)
    stated = ctx.json_scale(dimension)
    reading = _first(_number_from_value(s, dimension, scale, stated) for s in ctx.json_slots(dimension))
    if reading is None:
        for slot in ctx.kv_slots(dimension):
            text = slot.text + (f" ({slot.note})" if slot.note else "")
            reading = _with_span(read_number(text, dimension, scale), slot)
            if reading is not None:
                break
    if reading is None:
        reading = _free_number(ctx, dimension, scale)
    asked = [d for d in ctx.spec.dimensions if d in CONTINUOUS]
    if reading is None and asked == [dimension]:
        reading = _first(_with_span(read_number(s.text, dimension, scale), s) for s in ctx.answer_slots())
    return reading or DimensionParse()


# A number starts only at its first digit and blanks are eaten possessively: linear in the answer.
_CONFIDENCE_PATTERNS = tuple(re.compile(p, re.I) for p in (
    r"(?<![\d.])(\d+(?:\.\d+)?\s*+(?:%|％|percent))\s*+(?:confident|confidence|sure|certain|certainty)",
    r"confidence(?:\s++(?:level|score))?\s*+(?:of|is|:|=|at|around|about)?\s*+(?:about|around|roughly)?\s*+"
    r"(\d+(?:\.\d+)?\s*+(?:%|％|/\s*+\d+)?|very high|high|moderate|medium|low|very low)",
    r"(very high|high|moderate|medium|low|very low|fairly high|moderately high)\s++(?:confidence|certainty)",
    r"置信度\s*+(?:为|是|约|:|：)?\s*+(\d+(?:\.\d+)?\s*+%?|高|中等|低)"))

_CONFIDENCE_WORDS = ("confiden", "sure", "certain", "置信度")  # each pattern above needs one of them


def read_confidence(ctx: Context) -> DimensionParse:
    """Stated confidence in [0, 1]: "confidence: 80%", 0.8, "8/10", "high confidence", 4 on a 1-5 scale."""
    scale = tuple(ctx.spec.scales.get("confidence", (0.0, 1.0)))
    for slot in ctx.json_slots("confidence") + ctx.kv_slots("confidence"):
        reading = confidence_value(slot.value if isinstance(slot.value, (int, float)) else slot.text, scale)
        if reading is not None:
            reading.span = slot.span
            return reading
    for pattern in _CONFIDENCE_PATTERNS if mentions_any(ctx.lowered, _CONFIDENCE_WORDS) else ():
        match = pattern.search(ctx.prose)
        if match:
            reading = confidence_value(match.group(1), scale)
            if reading is not None:
                reading.span = match.group(0).strip()
                return reading
    return DimensionParse()


def confidence_value(value: Any, scale: tuple[float, float] = (0.0, 1.0)) -> DimensionParse | None:
    """A confidence statement as a number in [0, 1].

    A bare number on a configured confidence scale other than 0-1 (e.g. 1-5) is mapped linearly onto
    [0, 1]; otherwise numbers in [0, 1] are fractions and numbers in (1, 100] (or with %) hundredths.
    """
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    if text.lower() in NONE_WORDS:
        return None
    if isinstance(value, (int, float)) or re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
        x, (low, high) = float(text), scale
        if (low, high) != (0.0, 1.0) and low <= x <= high:
            return DimensionParse(round((x - low) / (high - low), 4), "ok", text, text)
        x = x / 100 if 1 < x <= 100 else x
        return DimensionParse(round(x, 4), "ok", text, text) if 0 <= x <= 1 else DimensionParse(
            None, "partial", text, text)
    reading = read_number(text, "confidence", (0.0, 1.0))
    if reading is not None and reading.value is None and reading.raw is not None:
        try:
            x = float(reading.raw)
        except ValueError:
            return reading
        if 1 < x <= 100:
            return DimensionParse(round(x / 100, 4), "ok", text, reading.raw)
    return reading
