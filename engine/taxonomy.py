"""Emotion taxonomies and the one label normaliser used everywhere.

A taxonomy is a named label set. Each label knows its polarity, its spelling variants (inflections,
synonyms, a few Chinese words for the Chinese prompt templates) and, where the literature gives one,
an approximate position on the valence-arousal circumplex.

Circumplex positions are angles read off Russell (1980), "A circumplex model of affect", J. Pers. Soc.
Psychol. 39(6), Fig. 2 (the 28 affect words), for the nearest word: valence = cos(angle) in [-1, 1],
arousal = (1 + sin(angle)) / 2 in [0, 1]. Labels without a word of their own in that figure (awe,
disgust, contempt) are placed by the nearest neighbours named in `_ANGLES`; they are approximations
meant for consistency checks, not norms.

Mappings between taxonomies follow the literature where it defines one: Mikels et al. (2005) group
amusement, awe, contentment and excitement as positive and anger, disgust, fear, sadness as negative;
Emotion6 (Peng et al., 2015) is Ekman's six with "joy" for happiness plus neutral.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "Label",
    "Taxonomy",
    "LabelMatch",
    "TAXONOMIES",
    "get_taxonomy",
    "normalize_label",
    "polarity_of",
    "map_label",
    "infer_taxonomy",
    "UnknownTaxonomyError",
    "DEFAULT_SCALES",
]

# The rating scales a continuous dimension is asked on when a dataset names none (low, high).
DEFAULT_SCALES: dict[str, tuple[float, float]] = {
    "valence": (1.0, 9.0),
    "arousal": (1.0, 9.0),
    "intensity": (1.0, 5.0),
}


class UnknownTaxonomyError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its argument; say something useful instead
        name = self.args[0] if self.args else "?"
        return f"unknown taxonomy {name!r}; choose one of: {', '.join(sorted(TAXONOMIES))}"


@dataclass(frozen=True)
class Label:
    name: str
    polarity: str  # positive | negative | neutral
    variants: tuple[str, ...] = ()
    angle: float | None = None  # degrees on Russell's circumplex

    @property
    def valence(self) -> float | None:
        return None if self.angle is None else round(math.cos(math.radians(self.angle)), 4)

    @property
    def arousal(self) -> float | None:
        return None if self.angle is None else round((1 + math.sin(math.radians(self.angle))) / 2, 4)


@dataclass(frozen=True)
class Taxonomy:
    name: str
    labels: tuple[Label, ...]
    description: str = ""
    polarity_only: bool = False  # polarity2 / polarity3: emotion words map here through their polarity

    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    def label(self, name: str) -> Label:
        for label in self.labels:
            if label.name == name:
                return label
        raise KeyError(f"{name!r} is not a label of taxonomy {self.name!r} ({', '.join(self.names)})")

    def __contains__(self, name: object) -> bool:
        return name in self.names


@dataclass(frozen=True)
class LabelMatch:
    """Result of normalising one label string against a taxonomy."""

    label: str | None
    raw: str
    via: str | None = None  # e.g. "mikels8:contentment" when mapped through another taxonomy
    candidates: tuple[str, ...] = field(default=())  # nearest labels when `label` is None

    @property
    def ok(self) -> bool:
        return self.label is not None

    def explain(self) -> str:
        if self.ok:
            return f"{self.raw!r} -> {self.label}" + (f" (via {self.via})" if self.via else "")
        hint = f"; nearest: {', '.join(self.candidates)}" if self.candidates else ""
        return f"{self.raw!r} is not a known label{hint}"


# Angles (degrees) from Russell (1980), Fig. 2, by nearest affect word.
_ANGLES = {
    "happiness": 8.0,  # happy
    "joy": 8.0,
    "amusement": 25.0,  # delighted
    "excitement": 49.0,  # excited
    "awe": 60.0,  # between excited (49) and astonished (70)
    "surprise": 70.0,  # astonished
    "anger": 99.0,  # angry
    "fear": 117.0,  # afraid
    "disgust": 130.0,  # between annoyed (123) and distressed (138)
    "contempt": 130.0,
    "sadness": 208.0,  # sad
    "contentment": 323.0,  # content
}

# Spelling variants per canonical emotion concept (lower case, no punctuation).
_V = {
    "amusement": ("amusement", "amused", "amusing", "funny", "fun", "humor", "humour", "humorous",
                  "playful", "playfulness", "娱乐", "愉悦", "好笑", "有趣", "滑稽"),
    "awe": ("awe", "awed", "awestruck", "awe struck", "awe inspiring", "wonder", "amazement", "amazed",
            "admiration", "majestic", "敬畏", "惊叹", "震撼"),
    "contentment": ("contentment", "content", "contented", "calm", "calmness", "peaceful", "peace",
                    "serene", "serenity", "relaxed", "relaxation", "tranquil", "tranquility",
                    "satisfied", "satisfaction", "满足", "平静", "满意", "宁静", "安详"),
    "excitement": ("excitement", "excited", "exciting", "thrilled", "thrill", "enthusiasm",
                   "enthusiastic", "exhilaration", "exhilarated", "兴奋", "激动"),
    "anger": ("anger", "angry", "angered", "rage", "furious", "fury", "mad", "irritated", "irritation",
              "annoyed", "annoyance", "hostile", "hostility", "愤怒", "生气"),
    "disgust": ("disgust", "disgusted", "disgusting", "revulsion", "revolted", "repulsed", "repulsion",
                "gross", "厌恶", "恶心", "反感"),
    "fear": ("fear", "fearful", "afraid", "scared", "scary", "frightened", "fright", "terrified",
             "terror", "anxious", "anxiety", "horror", "horrified", "frightening", "terrifying", "恐惧", "害怕",
             "恐怖", "惊恐"),
    "sadness": ("sadness", "sad", "saddened", "sorrow", "sorrowful", "unhappy", "unhappiness", "grief",
                "melancholy", "melancholic", "depressed", "depression", "gloomy", "悲伤", "难过", "伤心", "忧伤",
                "哀伤", "悲哀"),
    "happiness": ("happiness", "happy", "joy", "joyful", "joyous", "joyfulness", "delight", "delighted",
                  "cheerful", "glad", "elated", "快乐", "高兴", "喜悦", "开心", "幸福", "愉快", "欢乐"),
    "surprise": ("surprise", "surprised", "surprising", "astonished", "astonishment", "shock",
                 "shocked", "startled", "惊讶", "惊奇", "吃惊", "震惊"),
    "neutral": ("neutral", "neutrality", "no emotion", "neutral expression", "indifferent",
                "expressionless", "中性", "中立", "平淡"),
    "contempt": ("contempt", "contemptuous", "scorn", "disdain", "轻蔑", "蔑视"),
    "love": ("love", "loving", "affection", "affectionate", "tenderness", "爱", "喜爱"),
    "positive": ("positive", "pos", "positively", "good", "pleasant", "积极", "正面", "正向"),
    "negative": ("negative", "neg", "negatively", "bad", "unpleasant", "消极", "负面", "负向"),
}

_POLARITY = {
    "amusement": "positive", "awe": "positive", "contentment": "positive", "excitement": "positive",
    "happiness": "positive", "joy": "positive",
    "anger": "negative", "disgust": "negative", "fear": "negative", "sadness": "negative",
    "contempt": "negative",
    "love": "positive",
    # Surprise is ambivalent; for two-way polarity it is counted positive, as the Emotion6 and
    # FER sentiment groupings usually do. Neutral has no two-way polarity.
    "surprise": "positive",
    "neutral": "neutral",
    "positive": "positive", "negative": "negative",
}


def _label(name: str, concept: str | None = None, extra: tuple[str, ...] = ()) -> Label:
    concept = concept or name
    variants = tuple(dict.fromkeys((name, *_V.get(concept, ()), *extra)))
    return Label(name, _POLARITY[concept], variants, _ANGLES.get(name, _ANGLES.get(concept)))


_EKMAN6 = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")

TAXONOMIES: dict[str, Taxonomy] = {
    t.name: t
    for t in (
        Taxonomy(
            "mikels8",
            tuple(_label(n) for n in ("amusement", "awe", "contentment", "excitement",
                                       "anger", "disgust", "fear", "sadness")),
            "Mikels et al. (2005): four positive and four negative emotions (FI, EmoSet, Abstract, ArtPhoto).",
        ),
        Taxonomy("ekman6", tuple(_label(n) for n in _EKMAN6), "Ekman's six basic emotions."),
        Taxonomy("ekman7", tuple(_label(n) for n in (*_EKMAN6, "neutral")),
                 "Ekman's six plus neutral (RAF-DB basic, FER2013)."),
        Taxonomy("fer8", tuple(_label(n) for n in (*_EKMAN6, "neutral", "contempt")),
                 "Ekman's six plus neutral and contempt (AffectNet, FER+)."),
        Taxonomy(
            "emotion6",
            tuple(_label(n, "happiness" if n == "joy" else n)
                  for n in ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")),
            "Emotion6 (Peng et al., 2015): Ekman's six with 'joy', plus neutral.",
        ),
        Taxonomy(
            "unbiasedemo6",
            tuple(_label(n, "happiness" if n == "joy" else n)
                  for n in ("anger", "fear", "joy", "love", "sadness", "surprise")),
            "UnBiasedEmo (Panda et al., 2018): anger, fear, joy, love, sadness, surprise.",
        ),
        Taxonomy("polarity2", (_label("positive"), _label("negative")), "Two-way sentiment.", True),
        Taxonomy("polarity3", (_label("positive"), _label("negative"), _label("neutral")),
                 "Three-way sentiment.", True),
    )
}

# Cross-taxonomy mappings defined by the literature (source label -> target label).
_POSITIVE_TO_HAPPINESS = {"amusement": "happiness", "awe": "happiness", "contentment": "happiness",
                          "excitement": "happiness"}
_SAME_NEGATIVES = {n: n for n in ("anger", "disgust", "fear", "sadness")}
_MAPPINGS: dict[tuple[str, str], dict[str, str]] = {
    ("mikels8", "ekman6"): {**_POSITIVE_TO_HAPPINESS, **_SAME_NEGATIVES},
    ("mikels8", "ekman7"): {**_POSITIVE_TO_HAPPINESS, **_SAME_NEGATIVES},
    ("mikels8", "fer8"): {**_POSITIVE_TO_HAPPINESS, **_SAME_NEGATIVES},
    ("mikels8", "emotion6"): {k: "joy" for k in _POSITIVE_TO_HAPPINESS} | _SAME_NEGATIVES,
    ("emotion6", "ekman7"): {"joy": "happiness"} | {n: n for n in ("anger", "disgust", "fear", "sadness",
                                                                   "surprise", "neutral")},
    ("ekman7", "emotion6"): {"happiness": "joy"} | {n: n for n in ("anger", "disgust", "fear", "sadness",
                                                                   "surprise", "neutral")},
    ("fer8", "ekman7"): {n: n for n in (*_EKMAN6, "neutral")} | {"contempt": "disgust"},
}


def get_taxonomy(name: str | Taxonomy) -> Taxonomy:
    if isinstance(name, Taxonomy):
        return name
    try:
        return TAXONOMIES[name]
    except KeyError:
        raise UnknownTaxonomyError(name) from None


_STRIP = re.compile(r"[\s\"'`*_.,;:!?()\[\]{}<>/\\|#~-]+")
_ARTICLES = re.compile(r"^(?:the|a|an|emotion|label|category|answer)\s+|\s+(?:emotion|feeling|mood)$")


def _clean(text: str) -> str:
    s = text.strip().lower()
    s = _STRIP.sub(" ", s).strip()
    for _ in range(2):
        s = _ARTICLES.sub("", s).strip()
    return s


@lru_cache(maxsize=None)
def _variant_index(taxonomy: str) -> dict[str, str]:
    tax = TAXONOMIES[taxonomy]
    index: dict[str, str] = {}
    for label in tax.labels:
        for variant in label.variants:
            index.setdefault(_clean(variant), label.name)
    return index


@lru_cache(maxsize=None)
def _emotion_index() -> dict[str, tuple[str, str]]:
    """Every emotion variant of every non-polarity taxonomy -> (taxonomy, label)."""
    index: dict[str, tuple[str, str]] = {}
    for tax in TAXONOMIES.values():
        if tax.polarity_only:
            continue
        for variant, label in _variant_index(tax.name).items():
            index.setdefault(variant, (tax.name, label))
    return index


@lru_cache(maxsize=65536)
def normalize_label(text: str | None, taxonomy: str = "ekman7") -> LabelMatch:
    """Map a free label string onto `taxonomy`.

    Case, punctuation, inflections and synonyms are folded ("Sad", "sadness", "sad." -> sadness;
    "Content" -> contentment in mikels8). For polarity taxonomies, an emotion word is mapped through
    its polarity ("Content" -> positive, via mikels8:contentment). A string that matches nothing
    returns `label=None` with the nearest candidates, never a guess.

    >>> normalize_label("SADNESS", "mikels8").label
    'sadness'
    >>> normalize_label("Content", "polarity2").label
    'positive'
    """
    raw = "" if text is None else str(text)
    tax = get_taxonomy(taxonomy)
    key = _clean(raw)
    if not key:
        return LabelMatch(None, raw)
    index = _variant_index(tax.name)
    if key in index:
        return LabelMatch(index[key], raw)
    if tax.polarity_only:
        hit = _emotion_index().get(key)
        if hit is not None:
            polarity = TAXONOMIES[hit[0]].label(hit[1]).polarity
            if polarity in tax:
                return LabelMatch(polarity, raw, via=f"{hit[0]}:{hit[1]}")
            return LabelMatch(None, raw, via=f"{hit[0]}:{hit[1]}")
    else:
        hit = _emotion_index().get(key)
        if hit is not None:
            mapped = map_label(hit[1], hit[0], tax.name)
            if mapped is not None:
                return LabelMatch(mapped, raw, via=f"{hit[0]}:{hit[1]}")
    if hit is not None:
        # A known emotion with no defined mapping here ("happy" in mikels8): offer the labels that
        # map onto it, so the ambiguity is visible instead of guessed away.
        reverse = tuple(src for (s, d), table in _MAPPINGS.items() if s == tax.name
                        for src, dst in table.items() if dst == hit[1] and d == hit[0])
        if reverse:
            return LabelMatch(None, raw, via=f"{hit[0]}:{hit[1]}", candidates=tuple(dict.fromkeys(reverse)))
    close = difflib.get_close_matches(key, list(index), n=6, cutoff=0.6)
    candidates = tuple(dict.fromkeys(index[c] for c in close))[:3]
    return LabelMatch(None, raw, candidates=candidates)


def polarity_of(label: str, taxonomy: str) -> str:
    """Polarity (positive / negative / neutral) of a canonical label of `taxonomy`."""
    return get_taxonomy(taxonomy).label(label).polarity


def map_label(label: str, source: str, target: str) -> str | None:
    """Map a canonical label of `source` onto `target`, where the literature defines a mapping.

    Identity where the label exists in both; polarity taxonomies take the label's polarity;
    otherwise the explicit table above; None where no mapping is defined.
    """
    src, dst = get_taxonomy(source), get_taxonomy(target)
    if label not in src:
        return None
    if label in dst:
        return label
    if dst.polarity_only:
        polarity = src.label(label).polarity
        return polarity if polarity in dst else None
    return _MAPPINGS.get((src.name, dst.name), {}).get(label)


def infer_taxonomy(labels: list[str]) -> str | None:
    """The smallest taxonomy whose labels cover every string in `labels` (after normalising), or None."""
    distinct = {label for label in labels if label is not None and str(label).strip()}
    if not distinct:
        return None
    order = sorted(TAXONOMIES.values(), key=lambda t: (len(t.labels), t.name))
    for tax in order:
        index = _variant_index(tax.name)
        if all(_clean(label) in index for label in distinct):
            return tax.name
    return None
