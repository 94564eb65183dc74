"""Which kinds of visual cue a model cites in its reasoning, and whether its reasoning agrees with its answer.

Method (documented so the numbers can be argued with):

* **Reasoning text** of an answer: its reasoning steps as stored in `traces.steps` (the answer's prose
  outside its JSON object, or the JSON "reasoning" field, or the scene-decomposition sections), plus a
  reasoning model's thinking block. The final answer is removed before anything is counted: JSON
  objects, code fences, and lines that start with "Answer", "Final answer", "Conclusion", "Overall"
  or "In conclusion" (`strip_final_answer`), so the answer cannot count as its own evidence.
* **Cue extraction** is lexicon matching. Each cue category has a short list of words and phrases
  (`CUE_LEXICON`); the text is lower-cased, split into word tokens, each token reduced to a singular
  form (`_fold`: "faces" -> "face", "shadows" -> "shadow", "activities" -> "activity", "glasses" ->
  "glass"), and a category is *cited* when any of its terms occurs as a whole word or phrase. The
  matched terms are kept, so every count can be traced back to the words that produced it. Terms
  that reasoning uses in a non-visual sense ("signs of distress", "in other words", "the scene")
  are left out on purpose. A text cites a category or not; the share of texts citing it is what
  is reported (`cue_shares`), never a count of words.
* **Reasoning sentiment** counts positive and negative affect words (`_POSITIVE_WORDS`,
  `_NEGATIVE_WORDS`) in the reasoning text; a negator among the three tokens before a word ("not",
  "no", "never", "without", "n't", ...) flips its sign ("not happy" counts as negative). The reasoning
  is *positive* (*negative*) when that side has at least two more words than the other and at least
  1.5 times as many; with no affect word it is *none*, otherwise *unclear*.
* **Inconsistency**: a positive reasoning with a negative final polarity, or the other way round.
  The inconsistency rate is reported over the answers whose reasoning is clearly signed and whose
  final polarity is positive or negative (neutral answers and unclear reasoning are not counted).
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
        "garbage", "house", "sky", "sea", "ocean", "mountain", "beach", "water", "fire", "smoke", "clothing",
        "dress", "hat", "bottle", "table", "chair", "bed", "road", "street", "vehicle", "boat", "bird", "horse",
    ),
    "actions": (
        "running", "playing", "hugging", "hug", "fighting", "fight", "dancing", "walking", "holding",
        "sitting", "jumping", "kissing", "celebrating", "attacking", "screaming", "shouting", "eating",
        "working", "falling", "hitting", "embracing", "action", "activity", "event",
    ),
    "text_in_image": (
        "text", "caption", "written", "writing", "handwriting", "lettering", "letters", "slogan", "banner",
        "logo", "headline", "meme", "inscription", "placard", "poster", "billboard", "signage", "sign that reads",
        "sign reads", "sign says", "sign saying", "street sign", "typography", "subtitle", "words on",
    ),
    "composition": (
        "composition", "framing", "framed", "background", "foreground", "perspective", "angle", "close-up",
        "closeup", "centered", "centred", "symmetry", "symmetrical", "blurred", "blur", "depth of field",
        "focus", "contrast", "texture", "lines", "shapes", "empty space", "negative space", "crowded",
        "cluttered", "minimalist", "rule of thirds", "vanishing point", "wide shot", "wide-angle", "cropped",
        "silhouette", "layout", "arrangement", "viewpoint",
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
_NEGATORS = frozenset("not no never without hardly lacks lack nobody nothing neither nor isn't aren't doesn't "
                       "don't wasn't".split())
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_FINAL_LINE = re.compile(r"(?im)^[ \t]*(?:#+[ \t]*)?(?:[*_]+[ \t]*)?(?:final answer|answer|overall|in conclusion|"
                         r"conclusion)\b.*$")
_JSON_OBJECT = re.compile(r"\{[^{}]*\}")
_FENCE = re.compile(r"```[a-z]*")


def _fold(token: str) -> str:
    """A plural token's singular form, so "smiles" meets "smile" (the lexicon is folded the same way).

    >>> [_fold(t) for t in ("faces", "smiles", "shadows", "activities", "glasses", "boxes", "focus", "dress")]
    ['face', 'smile', 'shadow', 'activity', 'glass', 'box', 'focus', 'dress']
    """
    if len(token) <= 3:
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "zes", "ches", "shes")):
        return token[:-2]
    if token.endswith(("ss", "us", "is", "'s")):
        return token[:-2] if token.endswith("'s") else token
    if token.endswith("s"):
        return token[:-1]
    return token


def _tokens(text: str | None) -> list[str]:
    return _TOKEN.findall((text or "").lower().replace("\u2019", "'"))


def _phrases() -> dict[str, list[tuple[str, ...]]]:
    return {category: [tuple(_fold(t) for t in _TOKEN.findall(term)) for term in terms]
            for category, terms in CUE_LEXICON.items()}


_PHRASES = _phrases()
_PHRASE_LENGTHS = sorted({len(p) for phrases in _PHRASES.values() for p in phrases if p})


@dataclass
class CueReport:
    cues: dict[str, list[str]] = field(default_factory=dict)  # category -> matched terms
    sentiment: str = "none"  # positive | negative | unclear | none
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
    tokens = [_fold(t) for t in _tokens(text)]
    grams = {tuple(tokens[i:i + n]) for n in _PHRASE_LENGTHS for i in range(len(tokens) - n + 1)}
    found: dict[str, list[str]] = {}
    for category, phrases in _PHRASES.items():
        hits = list(dict.fromkeys(" ".join(phrase) for phrase in phrases if phrase in grams))
        if hits:
            found[category] = hits
    return found


def strip_final_answer(text: str | None) -> str:
    """The reasoning without its final answer (JSON objects, code fences, "Answer: ..." lines).

    >>> strip_final_answer('The sky is grey.\\nFinal answer: sadness\\n{"emotion": "sadness"}').strip()
    'The sky is grey.'
    """
    text = _FENCE.sub("", text or "")
    previous = None
    while previous != text:  # nested objects: innermost first
        previous, text = text, _JSON_OBJECT.sub("", text)
    return _FINAL_LINE.sub("", text)


def reasoning_sentiment(text: str | None) -> tuple[str, int, int]:
    """(sentiment, positive count, negative count) of the reasoning text, with negation handling.

    >>> reasoning_sentiment("The people are smiling and happy; a cheerful, not sad, party.")
    ('positive', 4, 0)
    """
    tokens = _tokens(strip_final_answer(text))
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
    return "unclear", positive, negative


def analyse_reasoning(text: str | None) -> CueReport:
    """Cues cited and sentiment of one reasoning text (the final answer removed first)."""
    sentiment, pos, neg = reasoning_sentiment(text)
    return CueReport(extract_cues(strip_final_answer(text)), sentiment, pos, neg)


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
        counts.update(extract_cues(strip_final_answer(text)).keys())
    return {c: (counts[c] / total if total else float("nan")) for c in CUE_CATEGORIES}
