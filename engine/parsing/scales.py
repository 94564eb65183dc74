"""Reading numbers on scales: "7/9", "6 out of 9", "3 (on 1-7)", "60%", "moderately high".

A number is returned on the requested scale (low, high):

* a bare number inside the requested scale is taken as is; one outside it (e.g. "0.6" when 1-9 was
  asked and no fraction is stated) is "partial" with value None and the number kept in `raw`;
* a stated scale is rescaled linearly, v = low + (x - a) / (b - a) * (high - low): "3 (on 1-7)",
  "on a scale of 1 to 7", "(1-7)", "[0, 1]", "在1到7之间";
* "x/b" and "x out of b" state the top b; the bottom is the requested one when b equals the
  requested top, 0 when b is 10 or 100 (count-style ratings), otherwise 1 (Likert scales start at 1);
* a percentage is a fraction of the range: v = low + p/100 * (high - low);
* a range "6-7" is read as its midpoint.

Level words map to fixed positions u on the unit interval, v = low + u * (high - low):

=========================================================  =====
very low, extremely low, very negative, very calm, 极低      0
low, negative, unpleasant, calm, weak, mild, 低, 消极         1/6
moderately / somewhat / slightly / fairly low, low to       2/6
moderate, slightly negative, 较低, 偏低, 略消极
neutral, moderate, medium, average, 中等, 中性, 适中          3/6
moderately / somewhat / slightly / fairly high, moderate    4/6
to high, medium-high, slightly positive, 较高, 偏高, 略积极
high, positive, pleasant, strong, excited, energetic, 高     5/6
very high, extremely high, very positive, very strong, 极高   1
=========================================================  =====

On 1-9 that is 1, 2.33, 3.67, 5, 6.33, 7.67, 9; on 1-5: 1, 1.67, 2.33, 3, 3.67, 4.33, 5.
Valence words (positive/negative/pleasant) are read only for valence; calm/excited only for
arousal; weak/strong only for intensity.
"""

from __future__ import annotations

import re

from engine.parsing.types import DimensionParse

NUMBER = r"[-+]?\d+(?:\.\d+)?"
_SCALE_PATTERNS = [re.compile(p, re.I) for p in (
    rf"scale\s*(?:of|from|:|=|is)?\s*({NUMBER})\s*(?:-|–|—|to|~|\.\.|,)\s*({NUMBER})",
    rf"\b(?:on|in|using|within)\s+(?:a|the)?\s*({NUMBER})\s*(?:-|–|—|to|~|\.\.)\s*({NUMBER})\s*(?:-?\s*point\s*)?(?:scale|range)?",
    rf"[(\[（]\s*(?:scale\s*|range\s*)?({NUMBER})\s*(?:-|–|—|to|~|\.\.|,|到|至)\s*({NUMBER})\s*(?:scale|分)?\s*[)\]）]",
    rf"(?:在|范围|量表|尺度)\s*({NUMBER})\s*(?:-|到|至|~|–)\s*({NUMBER})",
    rf"(?<![\d.])({NUMBER})\s*+(?:-|到|至|~|–)\s*+({NUMBER})\s*+(?:分)?\s*+(?:的)?(?:量表|范围|尺度|分制)",
)]
# A number starts only where no digit precedes it, so a run of digits is tried once, not from each digit.
_FRACTION = re.compile(rf"(?<![\d.])({NUMBER})\s*+(?:/|out of|分之|／)\s*+({NUMBER})|满分\s*+({NUMBER})", re.I)
_PERCENT = re.compile(rf"(?<![\d.])({NUMBER})\s*+(?:%|％|percent\b)", re.I)
_RANGE = re.compile(rf"(?<![\d.])({NUMBER})\s*(?:-|–|to|~)\s*({NUMBER})(?!\d|\.\d)")
PLAIN_NUMBER = re.compile(rf"(?<![A-Za-z0-9_.]){NUMBER}(?![A-Za-z0-9_])")

_LEVELS: list[tuple[str, float, str | None]] = [
    (r"(?:very|extremely|highly)\s+negative|very unpleasant|extremely unpleasant|非常消极|极其消极|非常负面", 0.0, "valence"),
    (r"(?:slightly|somewhat|mildly|moderately|a bit|fairly)\s+(?:negative|unpleasant)|略微消极|稍微消极|略消极|偏消极|偏负面", 2 / 6, "valence"),
    (r"(?:slightly|somewhat|mildly|moderately|a bit|fairly)\s+(?:positive|pleasant)|略微积极|稍微积极|略积极|偏积极|偏正面", 4 / 6, "valence"),
    (r"(?:very|extremely|highly)\s+(?:positive|pleasant)|非常积极|极其积极|非常正面", 1.0, "valence"),
    (r"\bnegative|\bunpleasant|消极|负面", 1 / 6, "valence"),
    (r"\bpositive|\bpleasant|积极|正面", 5 / 6, "valence"),
    (r"(?:very|extremely)\s+(?:calm|relaxed|subdued)", 0.0, "arousal"),
    (r"(?:very|extremely|highly)\s+(?:excited|energetic|agitated|aroused|stimulating)", 1.0, "arousal"),
    (r"\b(?:calm|relaxed|subdued|tranquil)\b|平静", 1 / 6, "arousal"),
    (r"\b(?:energetic|excited|agitated|aroused|stimulating|activated)\b|激动|兴奋", 5 / 6, "arousal"),
    (r"(?:very|extremely)\s+(?:weak|mild|faint)", 0.0, "intensity"),
    (r"(?:very|extremely)\s+(?:strong|intense)|\bextreme\b", 1.0, "intensity"),
    (r"\b(?:weak|mild|faint|subtle)\b|微弱|轻微", 1 / 6, "intensity"),
    (r"\b(?:strong|intense)\b|强烈", 5 / 6, "intensity"),
    (r"(?:very|extremely|exceptionally)\s+low|极低|非常低|很低", 0.0, None),
    (r"(?:very|extremely|exceptionally)\s+high|极高|非常高|很高", 1.0, None),
    (r"(?:moderately|somewhat|slightly|fairly|relatively|mildly|rather)\s+low|low(?:\s+to\s+|-to-|-|/)(?:moderate|medium)"
     r"|中等偏低|中偏低|较低|偏低|有点低", 2 / 6, None),
    (r"(?:moderately|somewhat|slightly|fairly|relatively|mildly|rather)\s+high|(?:moderate|medium)(?:\s+to\s+|-to-|-|/)high"
     r"|中等偏高|中偏高|较高|偏高|有点高", 4 / 6, None),
    (r"\b(?:neutral|moderate|medium|average|middling|intermediate|mid-level|midpoint)\b|中等|中性|适中|一般", 3 / 6, None),
    (r"\blow\b|低", 1 / 6, None),
    (r"\bhigh\b|高(?!兴)", 5 / 6, None),
]
_LEVEL_PATTERNS = [(re.compile(p, re.I), u, dim) for p, u, dim in _LEVELS]


def stated_scale(text: str) -> tuple[tuple[float, float] | None, str]:
    """(scale stated in `text` or None, `text` with that statement blanked out)."""
    for pattern in _SCALE_PATTERNS:
        match = pattern.search(text)
        if match:
            low, high = float(match.group(1)), float(match.group(2))
            if low < high:
                return (low, high), text[:match.start()] + " " * (match.end() - match.start()) + text[match.end():]
    return None, text


def rescale(x: float, source: tuple[float, float], target: tuple[float, float]) -> float:
    """Linear map of x from `source` onto `target`."""
    (a, b), (low, high) = source, target
    return low + (x - a) / (b - a) * (high - low)


def read_number(text: str, dimension: str, scale: tuple[float, float], *, allow_words: bool = True) -> DimensionParse | None:
    """A value on `scale` from a short answer slot, by the rules in this module's docstring; None if none."""
    low, high = scale
    span = text.strip()[:240]
    text = text.replace("−", "-").replace("＋", "+")  # Unicode minus: same length, offsets kept
    source, rest = stated_scale(text)
    fraction = _FRACTION.search(rest)
    if fraction and fraction.group(3) is not None:  # "7分（满分9分）"
        top = float(fraction.group(3))
        before = PLAIN_NUMBER.search(rest[:fraction.start()])
        if before:
            x = float(before.group(0))
            return _place(x, source or (low if top == high else _bottom(top), top), scale, span)
        fraction = None
    if fraction:
        x, top = float(fraction.group(1)), float(fraction.group(2))
        if top > 0:
            return _place(x, source or (low if top == high else _bottom(top), top), scale, span)
    percent = _PERCENT.search(rest)
    if percent:
        share = float(percent.group(1)) / 100
        if 0 <= share <= 1:
            return DimensionParse(_round(low + share * (high - low)), "ok", span, percent.group(0))
        return DimensionParse(None, "partial", span, percent.group(0))
    ranged = _RANGE.search(rest)
    if ranged and float(ranged.group(1)) < float(ranged.group(2)):
        x = (float(ranged.group(1)) + float(ranged.group(2))) / 2
        return _place(x, source, scale, span)
    plain = PLAIN_NUMBER.search(rest)
    if plain:
        return _place(float(plain.group(0)), source, scale, span)
    if allow_words:
        level = read_level(rest, dimension)
        if level is not None:
            return DimensionParse(_round(low + level[0] * (high - low)), "ok", span, level[1])
    return None


def _bottom(top: float) -> float:
    return 0.0 if top in (10.0, 100.0) else 1.0


def _place(x: float, source: tuple[float, float] | None, scale: tuple[float, float], span: str) -> DimensionParse:
    low, high = scale
    if source is not None and source != (low, high):
        if not source[0] <= x <= source[1]:
            return DimensionParse(None, "partial", span, _fmt(x))
        return DimensionParse(_round(rescale(x, source, scale)), "ok", span, _fmt(x))
    if low <= x <= high:  # no scale stated: read on the requested one, and say so
        return DimensionParse(_round(x), "ok", span, _fmt(x), method="assumed-scale" if source is None else "rule")
    return DimensionParse(None, "partial", span, _fmt(x))


def read_level(text: str, dimension: str, *, where: str = "first") -> tuple[float, str] | None:
    """(position in [0, 1], word) of a level word in `text` meant for `dimension`.

    `where`: "first" (the earliest anywhere), "start" (at the very start, after spaces) or "end"
    (the last words of `text`, as in "low valence").
    """
    best: tuple[int, int, float, str] | None = None
    for pattern, unit, only in _LEVEL_PATTERNS:
        if only is not None and only != dimension:
            continue
        if where == "end":
            match = next((m for m in pattern.finditer(text) if not text[m.end():].strip(" -")), None)
            rank = -len(match.group(0)) if match else 0  # the longest phrase ending there ("very low")
        else:
            match = pattern.search(text)
            if match and where == "start" and text[:match.start()].strip():
                match = None
            rank = match.start() if match else 0
        if match and (best is None or rank < best[0]):
            best = (rank, 0, unit, match.group(0))
    return None if best is None else (best[2], best[3])


def _round(x: float) -> float:
    return round(x, 4)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
