"""Which kinds of visual cue a model cites in its reasoning, and whether its reasoning agrees with its answer.

Method (documented so the numbers can be argued with):

* **Cue extraction** is lexicon matching. Each cue category has a list of words and short phrases
  (below); a reasoning text is lower-cased, split into word tokens, and a category is *cited* when
  any of its terms occurs as a whole word or phrase (plural "s"/"es" is folded). The output keeps the
  matched terms so that every count can be traced back to the words that produced it. The lexicon is
  deliberately small and visual; a model that says "the colours are dark" cites colour and lighting,
  one that says "the man is smiling" cites faces and expressions.
* **Reasoning sentiment** counts positive and negative affect words (a compact list, with a
  negation window of three tokens that flips a word's sign: "not happy" counts as negative) over the
  reasoning *without* its final answer line, so the answer cannot agree with itself. The reasoning is
  positive or negative when one side outnumbers the other by at least two words and by at least 1.5x;
  otherwise it is mixed and not counted as inconsistent.
* **Inconsistency**: the reasoning's sentiment is positive and the final polarity negative, or the
  other way round. The rate is reported over items whose reasoning has a clear sentiment.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

CUE_LEXICON: dict[str, tuple[str, ...]] = {
    "faces_expressions": (
        "face", "faces", "facial", "expression", "smile", "smiling", "smiles", "frown", "frowning", "grin",
        "grinning", "eyes", "eyebrows", "brow", "mouth", "lips", "tears", "crying", "cry", "laughing",
        "laugh", "gaze", "scowl", "grimace", "teeth", "cheeks", "wrinkled nose", "body language",
        "posture", "gesture",
    ),
    "colour_lighting": (
        "colour", "color", "colours", "colors", "colorful", "colourful", "bright", "brightness", "dark",
        "darkness", "dim", "light", "lighting", "lit", "shadow", "shadows", "warm tones", "cool tones",
        "warm", "cold", "hue", "saturated", "saturation", "muted", "vibrant", "pastel", "grey", "gray",
        "black and white", "monochrome", "sunlight", "sunset", "glow", "palette", "tones", "red", "blue",
        "green", "yellow", "orange", "golden",
    ),
    "objects": (
        "object", "objects", "flower", "flowers", "car", "building", "tree", "trees", "food", "animal",
        "dog", "cat", "weapon", "gun", "knife", "toy", "balloon", "cake", "gift", "blood", "trash",
        "garbage", "house", "sky", "sea", "ocean", "mountain", "beach", "water", "fire", "smoke",
    ),
    "actions": (
        "running", "playing", "hugging", "hug", "fighting", "fight", "dancing", "walking", "holding",
        "sitting", "jumping", "kissing", "celebrating", "attacking", "screaming", "shouting", "eating",
        "working", "falling", "hitting", "embracing", "action", "activity", "event",
    ),
    "text_in_image": (
        "text", "caption", "sign", "signs", "words", "writing", "written", "letters", "slogan", "banner",
        "logo", "headline", "meme", "quote", "reads", "inscription",
    ),
    "composition": (
        "composition", "framing", "framed", "background", "foreground", "perspective", "angle", "close-up",
        "closeup", "centered", "centred", "symmetry", "symmetrical", "blurred", "blur", "depth of field",
        "focus", "contrast", "texture", "lines", "shapes", "empty space", "negative space", "crowded",
        "cluttered", "minimalist", "scene", "landscape", "setting",
    ),
}

CUE_CATEGORIES = tuple(CUE_LEXICON)

_POSITIVE_WORDS = frozenset(
    "happy happiness joy joyful cheerful delight delighted pleasant positive calm peaceful serene content "
    "contentment love loving warm warmth playful fun funny amusing amusement excited excitement exciting "
    "beautiful lovely celebration celebrating smile smiling laughing laugh hopeful hope relaxed relaxing "
    "awe awesome wonderful bright uplifting comfortable cozy cosy friendly success triumphant proud".split())
_NEGATIVE_WORDS = frozenset(
    "sad sadness sorrow grief unhappy gloomy gloom depressing depressed melancholy lonely loneliness angry "
    "anger rage furious hostile fear afraid scared scary frightening terrifying threatening threat danger "
    "dangerous disgust disgusting gross repulsive negative unpleasant dark bleak grim tense tension "
    "anxious anxiety distress distressed pain painful suffering hurt injured injury death dead violent "
    "violence crying tears destroyed destruction ruined abandoned decay worried despair tragic".split())
_NEGATORS = frozenset("not no never without hardly lacks lack isn't aren't doesn't don't wasn't n't nor".split())
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_FINAL_LINE = re.compile(r"(?im)^\s*(?:\**\s*)?(?:final answer|answer|overall|in conclusion|conclusion)\b.*$")


def _fold(token: str) -> str:
    for suffix in ("es", "s"):
        if token.endswith(suffix) and len(token) > len(suffix) + 3:
            return token[: -len(suffix)]
    return token


def _phrases() -> dict[str, list[tuple[str, ...]]]:
    return {category: [tuple(_fold(t) for t in _TOKEN.findall(term)) for term in terms]
            for category, terms in CUE_LEXICON.items()}


_PHRASES = _phrases()


@dataclass
class CueReport:
    cues: dict[str, list[str]] = field(default_factory=dict)  # category -> matched terms
    sentiment: str = "none"  # positive | negative | mixed | none
    positive_words: int = 0
    negative_words: int = 0

    @property
    def categories(self) -> list[str]:
        return [c for c in CUE_CATEGORIES if self.cues.get(c)]


def extract_cues(text: str | None) -> dict[str, list[str]]:
    """Cue categories cited in `text`, each with the terms that matched.

    >>> sorted(extract_cues("Her smile and the warm golden light suggest joy."))
    ['colour_lighting', 'faces_expressions']
    """
    tokens = [_fold(t) for t in _TOKEN.findall((text or "").lower())]
    found: dict[str, list[str]] = {}
    for category, phrases in _PHRASES.items():
        hits = []
        for phrase in phrases:
            n = len(phrase)
            if n and any(tuple(tokens[i:i + n]) == phrase for i in range(len(tokens) - n + 1)):
                hits.append(" ".join(phrase))
        if hits:
            found[category] = hits
    return found


def strip_final_answer(text: str) -> str:
    """The reasoning without its final-answer lines, so sentiment cannot echo the answer."""
    return _FINAL_LINE.sub("", text or "")


def reasoning_sentiment(text: str | None) -> tuple[str, int, int]:
    """(sentiment, positive count, negative count) of the reasoning text, with negation handling."""
    tokens = _TOKEN.findall(strip_final_answer(text or "").lower())
    positive = negative = 0
    for i, token in enumerate(tokens):
        sign = 1 if token in _POSITIVE_WORDS else -1 if token in _NEGATIVE_WORDS else 0
        if not sign:
            continue
        if any(t in _NEGATORS or t.endswith("n't") for t in tokens[max(0, i - 3):i]):
            sign = -sign
        if sign > 0:
            positive += 1
        else:
            negative += 1
    if positive == negative == 0:
        return "none", 0, 0
    if positive >= negative + 2 and positive >= 1.5 * negative:
        return "positive", positive, negative
    if negative >= positive + 2 and negative >= 1.5 * positive:
        return "negative", positive, negative
    return "mixed", positive, negative


def analyse_reasoning(text: str | None) -> CueReport:
    sentiment, pos, neg = reasoning_sentiment(text)
    return CueReport(extract_cues(strip_final_answer(text or "")), sentiment, pos, neg)


def is_inconsistent(sentiment: str, polarity: str | None) -> bool | None:
    """True when a clearly signed reasoning contradicts the final polarity; None when undecidable."""
    if sentiment not in ("positive", "negative") or polarity not in ("positive", "negative"):
        return None
    return sentiment != polarity


def cue_shares(texts: Iterable[str | None]) -> dict[str, float]:
    """Share of texts citing each cue category."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        counts.update(extract_cues(strip_final_answer(text or "")).keys())
    return {c: (counts[c] / total if total else float("nan")) for c in CUE_CATEGORIES}
