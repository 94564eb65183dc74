"""Offline baselines: `color-affect` (Valdez & Mehrabian, 1994), `majority` and `uniform`.

Baselines read `request.task` (dimensions, taxonomy, scales) instead of the prompt, and answer with a
compact JSON text holding only the requested dimensions, on the requested scales (default
`engine.taxonomy.DEFAULT_SCALES`), with labels of the requested taxonomy, e.g.
`{"polarity": "positive", "valence": 6.1, "arousal": 3.2, "emotion": "joy"}`. The common parser reads
it like any model's answer. Dimensions a baseline cannot answer are left out (stored as unanswered).

Options (`models: - {adapter: ..., options: {...}}`):
  polarity_taxonomy  polarity2 (default) or polarity3: the labels `uniform` draws polarity from
  seed               `uniform`: mixed into the per-item hash (default 0)
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections import Counter
from typing import Any

import numpy as np

from engine.errors import AffectLensError
from engine.models.base import (ErrorClass, ImagePart, ModelAdapter, ModelRequest, ModelResponse,
                                PrepareContext, TaskSpec)
from engine.taxonomy import DEFAULT_SCALES, get_taxonomy, map_label, normalize_label

CATEGORICAL = ("polarity", "emotion")
CONTINUOUS = ("valence", "arousal", "intensity")


class BaselineError(AffectLensError):
    """A baseline cannot answer as configured (e.g. no training data); the message says why."""


# ------------------------------------------------------------------------------------ shared helpers
def scale_of(task: TaskSpec, dimension: str) -> tuple[float, float]:
    """The scale a continuous dimension is answered on: the task's, else the default."""
    low, high = task.scales.get(dimension) or DEFAULT_SCALES.get(dimension, (1.0, 9.0))
    return float(low), float(high)


def from_unit(unit: float, scale: tuple[float, float]) -> float:
    """[0, 1] -> the scale, clipped."""
    low, high = scale
    return low + min(max(unit, 0.0), 1.0) * (high - low)


def answer_json(values: dict[str, Any]) -> str:
    """The compact JSON answer text; floats rounded to 4 decimals."""
    def tidy(value):
        if isinstance(value, float):
            return round(value, 4)
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        return value
    return json.dumps({k: tidy(v) for k, v in values.items()}, ensure_ascii=False)


def request_image(request: ModelRequest):
    """The item's image as an RGB Pillow image: the last image of the request (few-shot exemplars
    come first). Raises ValueError when there is none or it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    images = [part for message in request.messages for part in message.images]
    if not images:
        raise ValueError("the request holds no image")
    try:
        image = Image.open(io.BytesIO(images[-1].data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"image {images[-1].sha256[:12]} could not be decoded: {exc}") from exc
    return image.convert("RGB")


def hsv_means(image) -> tuple[float, float]:
    """Mean saturation and mean brightness (HSV value) in [0, 1], from Pillow's HSV conversion."""
    hsv = np.asarray(image.convert("HSV"), dtype=np.float64) / 255.0
    return float(hsv[..., 1].mean()), float(hsv[..., 2].mean())


def valdez_mehrabian(brightness: float, saturation: float) -> tuple[float, float, float]:
    """Pleasure, arousal, dominance from Valdez & Mehrabian (1994), "Effects of color on emotions",
    J. Exp. Psychol. Gen. 123(4), 394-409: P = .69 Y + .22 S, A = -.31 Y + .60 S, D = -.76 Y + .32 S
    (Y brightness, S saturation; here both in [0, 1], as Machajdik & Hanbury (2010) use them)."""
    return (0.69 * brightness + 0.22 * saturation,
            -0.31 * brightness + 0.60 * saturation,
            -0.76 * brightness + 0.32 * saturation)


def nearest_emotion(valence_unit: float, arousal_unit: float, taxonomy: str) -> list[str]:
    """Labels of `taxonomy` ordered by distance from a circumplex point (both coordinates in [0, 1]).

    Positions are the taxonomy's `valence` ([-1, 1]) and `arousal` ([0, 1]) read off Russell (1980);
    both axes are put on [-1, 1] so the labels lie on the unit circle. Labels without an angle sit
    by their polarity: neutral at the centre, positive / negative at the ends of the valence axis.
    """
    point = np.array([2 * valence_unit - 1, 2 * arousal_unit - 1])
    scored = []
    for label in get_taxonomy(taxonomy).labels:
        if label.valence is not None:
            position = np.array([label.valence, 2 * label.arousal - 1])
        else:
            position = np.array([{"positive": 1.0, "negative": -1.0}.get(label.polarity, 0.0), 0.0])
        scored.append((float(np.linalg.norm(point - position)), label.name))
    return [name for _, name in sorted(scored)]


def gold_target(item, dimension: str, dataset, task: TaskSpec) -> Any:
    """An item's gold answer for `dimension` as the baselines answer it: a label of the task's
    taxonomy (polarity: positive/negative/neutral) or a number on the requested scale; None if absent."""
    gold = item.gold.get(dimension)
    if gold is None:
        return None
    if dimension in CONTINUOUS:
        source = gold.scale or dataset.scales.get(dimension)
        if gold.value is None or source is None or math.isnan(gold.value):
            return None
        unit = (gold.value - source[0]) / (source[1] - source[0])
        return from_unit(unit, scale_of(task, dimension))
    if gold.label is None:
        return None
    if dimension == "polarity":
        return normalize_label(gold.label, "polarity3").label or gold.label
    source = gold.taxonomy or dataset.taxonomy
    mapped = map_label(gold.label, source, task.taxonomy) if source else None
    return mapped or normalize_label(gold.label, task.taxonomy).label or gold.label


def item_key(dataset, item) -> str:
    return f"{dataset.name}/{item.item_id}"


class Baseline(ModelAdapter):
    """Common frame: time the answer, wrap it as a response, turn bad input into a stored error."""

    local = True
    method = ""  # reported as the resolved model id

    @property
    def model_id(self) -> str:
        return self.spec.model or self.name

    def answer(self, request: ModelRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def generate(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            values = self.answer(request)
        except ValueError as exc:  # the item's image
            return ModelResponse.failure(ErrorClass.IMAGE, f"{request.item_key or 'request'}: {exc}",
                                         raw_request=request.describe())
        except BaselineError as exc:
            return ModelResponse.failure(ErrorClass.BAD_REQUEST, f"{request.item_key or 'request'}: {exc}",
                                         raw_request=request.describe())
        text = answer_json(values)
        return ModelResponse(text=text, latency_ms=(time.perf_counter() - started) * 1000,
                             model_id_resolved=self.method or self.model_id, raw_request=request.describe(),
                             raw_response={"answer": json.loads(text)}, stop_reason="stop")


# ------------------------------------------------------------------------------------ color-affect
class ColorAffectBaseline(Baseline):
    """Valence and arousal from the image's mean brightness and saturation (Valdez & Mehrabian, 1994).

    Brightness Y and saturation S are the means of Pillow's HSV value and saturation channels,
    each in [0, 1]. Pleasure P = .69 Y + .22 S can reach [0, .91] and arousal A = -.31 Y + .60 S
    can reach [-.31, .60]; each attainable range is mapped linearly onto the requested scale
    (P = 0 -> scale minimum, P = .91 -> maximum). Polarity is positive when valence lies above the
    scale's midpoint. Emotion is the taxonomy label nearest to (valence, arousal) on Russell's
    circumplex (`nearest_emotion`); `ranking` orders all labels by that distance. No training,
    deterministic.
    """

    name = "color-affect"
    method = "color-affect/valdez-mehrabian-1994"
    P_RANGE = (0.0, 0.69 + 0.22)
    A_RANGE = (-0.31, 0.60)

    def circumplex(self, image) -> tuple[float, float]:
        """(valence, arousal), each in [0, 1] of the formula's attainable range."""
        saturation, brightness = hsv_means(image)
        pleasure, arousal, _ = valdez_mehrabian(brightness, saturation)
        unit_p = (pleasure - self.P_RANGE[0]) / (self.P_RANGE[1] - self.P_RANGE[0])
        unit_a = (arousal - self.A_RANGE[0]) / (self.A_RANGE[1] - self.A_RANGE[0])
        return unit_p, unit_a

    def answer(self, request: ModelRequest) -> dict[str, Any]:
        task = request.task
        unit_v, unit_a = self.circumplex(request_image(request))
        ranked = nearest_emotion(unit_v, unit_a, task.taxonomy)
        values: dict[str, Any] = {}
        for dim in task.dimensions:
            if dim == "polarity":
                values[dim] = "positive" if unit_v > 0.5 else "negative"
            elif dim == "valence":
                values[dim] = from_unit(unit_v, scale_of(task, dim))
            elif dim == "arousal":
                values[dim] = from_unit(unit_a, scale_of(task, dim))
            elif dim == "emotion":
                values[dim] = ranked[0]
            elif dim == "ranking":
                values[dim] = ranked
        return values


# ------------------------------------------------------------------------------------ chance references
class MajorityBaseline(Baseline):
    """The most frequent training label (ties: alphabetical) or the training mean, for every item.

    `confidence` is the majority label's share of the training items (for the emotion dimension
    when asked, else polarity). Needs `prepare` with training items that carry gold labels.
    """

    name = "majority"
    method = "majority"

    def __init__(self, spec):
        super().__init__(spec)
        self.fitted: dict[str, Any] = {}
        self.shares: dict[str, dict[str, float]] = {}

    async def prepare(self, context: PrepareContext) -> None:
        dataset, task = context.dataset, context.task
        for dim in _answerable(task.dimensions):
            targets = [t for item in dataset.items if (t := gold_target(item, dim, dataset, task)) is not None]
            if not targets:
                raise BaselineError(f"majority baseline: no training items of {dataset.name!r} have a gold "
                                    f"{dim!r}; give the dataset a train split with {dim} labels")
            if dim in CONTINUOUS:
                self.fitted[dim] = float(np.mean(targets))
            else:
                counts = Counter(targets)
                self.fitted[dim] = min(counts, key=lambda label: (-counts[label], label))
                self.shares[dim] = {label: n / len(targets) for label, n in counts.most_common()}

    def answer(self, request: ModelRequest) -> dict[str, Any]:
        if not self.fitted:
            raise BaselineError("majority baseline was not prepared on training items")
        values: dict[str, Any] = {}
        for dim in request.task.dimensions:
            if dim in self.fitted:
                values[dim] = self.fitted[dim]
            elif dim == "ranking" and "emotion" in self.shares:
                values[dim] = list(self.shares["emotion"])
            elif dim == "distribution" and "emotion" in self.shares:
                values[dim] = self.shares["emotion"]
        main = next((dim for dim in ("emotion", "polarity") if dim in values), None)
        if main is not None:
            values["confidence"] = self.shares[main][values[main]]
        return values


class UniformBaseline(Baseline):
    """A uniformly random label of the taxonomy, or a uniform value on the scale, per item.

    The draw is seeded by sha256(seed, item_key), so reruns give the same answers. `confidence` is
    1 / number of labels; `ranking` is a random permutation; `distribution` the flat one.
    """

    name = "uniform"
    method = "uniform"

    def answer(self, request: ModelRequest) -> dict[str, Any]:
        task = request.task
        seed = self.typed_options.seed
        digest = hashlib.sha256(f"{seed}:{request.item_key}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        emotions = get_taxonomy(task.taxonomy).names
        polarities = get_taxonomy(self.typed_options.polarity_taxonomy).names
        values: dict[str, Any] = {}
        for dim in task.dimensions:
            if dim == "polarity":
                values[dim] = polarities[rng.integers(len(polarities))]
            elif dim == "emotion":
                values[dim] = emotions[rng.integers(len(emotions))]
            elif dim in CONTINUOUS:
                low, high = scale_of(task, dim)
                values[dim] = float(rng.integers(low, high + 1)) if dim == "intensity" else float(rng.uniform(low, high))
            elif dim == "ranking":
                values[dim] = [emotions[i] for i in rng.permutation(len(emotions))]
            elif dim == "distribution":
                values[dim] = {label: 1 / len(emotions) for label in emotions}
        labels = emotions if "emotion" in values else polarities if "polarity" in values else None
        if labels:
            values["confidence"] = 1 / len(labels)
        return values


def _answerable(dimensions: tuple[str, ...]) -> list[str]:
    """Dimensions a trained baseline fits directly (ranking/distribution come from the emotion fit)."""
    dims = [d for d in dimensions if d in CATEGORICAL or d in CONTINUOUS]
    if ("ranking" in dimensions or "distribution" in dimensions) and "emotion" not in dims:
        dims.append("emotion")
    return dims
