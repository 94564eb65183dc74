"""`features`: hand-crafted affective image features and a scikit-learn model trained on the train split.

The features follow Machajdik & Hanbury (2010), "Affective image classification using features
inspired by psychology and art theory", ACM Multimedia: colour, texture and composition, computed
with numpy (and scipy's connected components) on a 128-pixel thumbnail, about 10 ms per image.

Options (`models: - {adapter: features, options: {...}}`):
  classifier   logistic (default) | svm | forest | boosting
  side         thumbnail side in pixels (default 128)
The model is fitted in `prepare()` on the training items only, one estimator per requested
dimension (classification for polarity/emotion, regression for valence/arousal/intensity). An item
that was among the training items is refused at `generate`, so evaluation stays on held-out items.
"""

from __future__ import annotations

import asyncio
import io
import math
from typing import Any

import numpy as np
from PIL import Image

from engine.models.base import ModelRequest, PrepareContext, TaskSpec
from engine.models.baselines import (CONTINUOUS, Baseline, BaselineError, _answerable, gold_target, item_key,
                                     request_image, valdez_mehrabian)

# ------------------------------------------------------------------------------------ features
def affect_features(image, side: int = 128) -> np.ndarray:
    """The feature vector of one RGB Pillow image (see `feature_names()` for the order)."""
    # Longest side at most `side`; slivers and icons enlarged to 16 pixels a side so that every
    # neighbourhood statistic is defined.
    scale = min(1.0, side / max(image.size))
    size = (max(16, round(image.width * scale)), max(16, round(image.height * scale)))
    small = image.resize(size, Image.BILINEAR) if size != image.size else image
    rgb = np.asarray(small, dtype=np.float64) / 255.0
    hsv = np.asarray(small.convert("HSV"), dtype=np.float64) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    return np.concatenate([_colour(rgb, hsv), _texture(grey, hsv), _composition(rgb, grey, hsv)])


def feature_groups() -> dict[str, list[str]]:
    """Feature names by group (colour, texture, composition), in the order of the vector."""
    colour = ["hue_cos", "hue_sin", "hue_concentration", "saturation_mean", "saturation_std", "brightness_mean",
              "brightness_std", "pleasure", "arousal", "dominance", "colourfulness", "warm_share", "skin_share"]
    colour += [f"hue_hist_{i}" for i in range(12)]
    colour += [f"saturation_hist_{i}" for i in range(5)] + [f"brightness_hist_{i}" for i in range(5)]
    colour += [f"hsv_joint_{h}_{s}_{v}" for h in range(8) for s in range(3) for v in range(3)]
    colour += ["white_share", "black_share", "colours_used", "dominant_colour_share", "top5_colour_share"]
    texture = ["glcm_contrast", "glcm_correlation", "glcm_energy", "glcm_homogeneity", "tamura_contrast",
               "edge_density", "gradient_mean", "orientation_entropy"]
    texture += [f"detail_{c}_{level}" for c in ("hue", "saturation", "brightness") for level in (1, 2, 3)]
    texture += [f"lbp_{i}" for i in range(10)]
    texture += [f"gradient_energy_{row}_{col}_{o}" for row in range(4) for col in range(4) for o in range(4)]
    composition = ["thirds_saturation", "thirds_brightness", "thirds_contrast", "saliency_x", "saliency_y",
                   "saliency_thirds_distance", "saliency_spread", "regions_log", "dof_hue", "dof_saturation",
                   "dof_brightness", "aspect_log"]
    composition += [f"layout_{ch}_{i}" for ch in ("brightness", "saturation") for i in range(9)]
    return {"colour": colour, "texture": texture, "composition": composition}


def feature_names() -> list[str]:
    """Every feature's name, in the order of `affect_features`."""
    return [name for names in feature_groups().values() for name in names]


def _colour(rgb: np.ndarray, hsv: np.ndarray) -> np.ndarray:
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    angle = 2 * np.pi * hue
    weight = sat.sum() or 1.0
    hue_cos, hue_sin = (np.cos(angle) * sat).sum() / weight, (np.sin(angle) * sat).sum() / weight
    pleasure, arousal, dominance = valdez_mehrabian(val.mean(), sat.mean())
    # Colourfulness: Hasler & Suesstrunk (2003), "Measuring colourfulness in natural images", SPIE 5007.
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    colourfulness = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    chromatic = sat > 0.2
    warm = ((hue < 1 / 6) | (hue > 5 / 6)) & chromatic
    # Skin: a fixed YCbCr box (Chai & Ngan, 1999), a stand-in for faces and bodies.
    r, g, b = rgb[..., 0] * 255, rgb[..., 1] * 255, rgb[..., 2] * 255
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    skin = (cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)
    hue_hist = np.histogram(hue, bins=12, range=(0, 1), weights=sat)[0] / weight
    sat_hist = np.histogram(sat, bins=5, range=(0, 1))[0] / sat.size
    val_hist = np.histogram(val, bins=5, range=(0, 1))[0] / val.size
    # Joint HSV histogram, 8 hues x 3 saturations x 3 brightnesses.
    joint_code = (np.minimum(hue * 8, 7).astype(int) * 9 + np.minimum(sat * 3, 2).astype(int) * 3
                  + np.minimum(val * 3, 2).astype(int))
    joint = np.bincount(joint_code.ravel(), minlength=72) / joint_code.size
    # Palette statistics on a 512-colour quantisation: flat graphics and screenshots use few colours.
    palette = np.bincount(((np.clip(rgb, 0, 0.9999) * 8).astype(int) @ np.array([64, 8, 1])).ravel(), minlength=512)
    palette = np.sort(palette / palette.sum())[::-1]
    return np.array([hue_cos, hue_sin, math.hypot(hue_cos, hue_sin), sat.mean(), sat.std(), val.mean(), val.std(),
                     pleasure, arousal, dominance, colourfulness, warm.mean(), skin.mean(),
                     *hue_hist, *sat_hist, *val_hist, *joint,
                     ((val > 0.9) & (sat < 0.1)).mean(), (val < 0.1).mean(), (palette > 0.001).mean(),
                     palette[0], palette[:5].sum()])


def _texture(grey: np.ndarray, hsv: np.ndarray) -> np.ndarray:
    glcm = _glcm_stats((np.clip(grey, 0, 0.9999) * 16).astype(int), 16)
    # Tamura contrast: sigma / kurtosis^(1/4) (Tamura, Mori & Yamawaki, 1978).
    sigma = grey.std()
    kurtosis = ((grey - grey.mean()) ** 4).mean() / sigma ** 4 if sigma > 0 else 0.0
    tamura = sigma / kurtosis ** 0.25 if kurtosis > 0 else 0.0
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    strong = magnitude > 0.05
    orientation = np.histogram(np.arctan2(gy, gx)[strong], bins=8, range=(-np.pi, np.pi))[0].astype(float)
    orientation = orientation / orientation.sum() if orientation.sum() else np.full(8, 1 / 8)
    entropy = -(orientation * np.log(orientation + 1e-12)).sum()
    # Wavelet-like detail energy (after Machajdik & Hanbury's Daubechies levels on H, S and Y):
    # the mean absolute difference between a channel and its 2x-downsampled, upsampled copy, per level.
    detail = [level for channel in (hsv[..., 0], hsv[..., 1], hsv[..., 2]) for level in _detail_levels(channel, 3)]
    return np.array([*glcm, tamura, strong.mean(), magnitude.mean(), entropy, *detail, *_lbp_histogram(grey),
                     *_gradient_energy(magnitude, np.arctan2(gy, gx))])


def _lbp_histogram(grey: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform local binary patterns, 8 neighbours, radius 1 (Ojala, Pietikainen &
    Maenpaa, 2002): bins 0-8 count the uniform codes by number of set bits, bin 9 the rest."""
    centre = grey[1:-1, 1:-1]
    h, w = grey.shape
    ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    bits = np.stack([grey[dy:h - 2 + dy, dx:w - 2 + dx] >= centre for dy, dx in ring]).astype(int)
    transitions = np.abs(np.diff(np.concatenate([bits, bits[:1]]), axis=0)).sum(axis=0)
    codes = np.where(transitions <= 2, bits.sum(axis=0), 9)
    return np.bincount(codes.ravel(), minlength=10) / codes.size


def _gradient_energy(magnitude: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Gradient energy per cell of a 4 x 4 grid and per 4 orientations: a coarse spatial envelope
    in the spirit of GIST (Oliva & Torralba, 2001)."""
    orientation = np.minimum(np.mod(angle, np.pi) / np.pi * 4, 3).astype(int)
    cells = []
    for rows in np.array_split(np.arange(magnitude.shape[0]), 4):
        for cols in np.array_split(np.arange(magnitude.shape[1]), 4):
            m, o = magnitude[np.ix_(rows, cols)], orientation[np.ix_(rows, cols)]
            cells.extend(np.bincount(o.ravel(), weights=m.ravel(), minlength=4) / max(m.size, 1))
    return np.array(cells)


def _glcm_stats(levels: np.ndarray, n: int) -> list[float]:
    """Contrast, correlation, energy, homogeneity of the grey-level co-occurrence matrix (Haralick et
    al., 1973), averaged over the right, down and diagonal neighbour offsets."""
    stats = []
    i, j = np.indices((n, n))
    for a, b in ((levels[:, :-1], levels[:, 1:]), (levels[:-1, :], levels[1:, :]), (levels[:-1, :-1], levels[1:, 1:])):
        matrix = np.bincount((a * n + b).ravel(), minlength=n * n).reshape(n, n).astype(float)
        matrix = matrix + matrix.T
        p = matrix / matrix.sum()
        mu_i, mu_j = (i * p).sum(), (j * p).sum()
        sd_i, sd_j = math.sqrt(((i - mu_i) ** 2 * p).sum()), math.sqrt(((j - mu_j) ** 2 * p).sum())
        correlation = ((i - mu_i) * (j - mu_j) * p).sum() / (sd_i * sd_j) if sd_i * sd_j > 0 else 1.0
        stats.append([((i - j) ** 2 * p).sum(), correlation, (p ** 2).sum(), (p / (1 + np.abs(i - j))).sum()])
    return list(np.mean(stats, axis=0))


def _detail_levels(channel: np.ndarray, levels: int) -> list[float]:
    out = []
    current = channel
    for _ in range(levels):
        h, w = (current.shape[0] // 2) * 2, (current.shape[1] // 2) * 2
        if h < 2 or w < 2:
            out.append(0.0)
            continue
        current = current[:h, :w]
        coarse = current.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        out.append(float(np.abs(current - np.kron(coarse, np.ones((2, 2)))).mean()))
        current = coarse
    return out


def _composition(rgb: np.ndarray, grey: np.ndarray, hsv: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    h, w = grey.shape
    inner = (slice(h // 3, max(h // 3 + 1, 2 * h // 3)), slice(w // 3, max(w // 3 + 1, 2 * w // 3)))
    saliency = _spectral_residual(grey)
    total = saliency.sum() or 1.0
    ys, xs = np.indices(grey.shape)
    cy, cx = (ys * saliency).sum() / total / h, (xs * saliency).sum() / total / w
    thirds = min(math.hypot(cx - tx, cy - ty) for tx in (1 / 3, 2 / 3) for ty in (1 / 3, 2 / 3))
    spread = math.sqrt((((ys / h - cy) ** 2 + (xs / w - cx) ** 2) * saliency).sum() / total)
    # Level of detail: connected regions of a 4-level-per-channel colour quantisation.
    quantised = (np.clip(rgb, 0, 0.9999) * 4).astype(int) @ np.array([16, 4, 1])
    regions = sum(ndimage.label(quantised == colour)[1] for colour in np.unique(quantised))
    # Low depth of field: high-frequency energy of the centre over that of the whole image.
    dof = []
    for channel in (hsv[..., 0], hsv[..., 1], hsv[..., 2]):
        energy = np.abs(ndimage.laplace(channel))
        dof.append(energy[inner].mean() / (energy.mean() + 1e-6))
    layout = [block.mean() for channel in (hsv[..., 2], hsv[..., 1])
              for rows in np.array_split(channel, 3, axis=0) for block in np.array_split(rows, 3, axis=1)]
    return np.array([hsv[..., 1][inner].mean(), hsv[..., 2][inner].mean(), grey[inner].std() - grey.std(),
                     cx, cy, thirds, spread, math.log1p(regions), *dof, math.log(w / h), *layout])


def _spectral_residual(grey: np.ndarray) -> np.ndarray:
    """Saliency map by the spectral residual (Hou & Zhang, 2007, CVPR)."""
    from scipy import ndimage

    spectrum = np.fft.fft2(grey)
    log_amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amplitude - ndimage.uniform_filter(log_amplitude, size=3, mode="nearest")
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    return ndimage.gaussian_filter(saliency, sigma=2)


# ------------------------------------------------------------------------------------ estimators
def make_estimator(kind: str, continuous: bool, seed: int = 0):
    """A scikit-learn pipeline: standardised features, then the chosen classifier or regressor."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    if continuous:
        models = {"logistic": lambda: RidgeCV(alphas=np.logspace(-2, 3, 12)), "svm": lambda: SVR(C=1.0),
                  "forest": lambda: RandomForestRegressor(300, min_samples_leaf=3, random_state=seed, n_jobs=-1),
                  "boosting": lambda: HistGradientBoostingRegressor(max_iter=150, learning_rate=0.05, random_state=seed)}
    else:
        models = {"logistic": lambda: LogisticRegression(C=0.01, max_iter=3000),
                  "svm": lambda: CalibratedClassifierCV(SVC(C=1.0), ensemble=False),
                  "forest": lambda: RandomForestClassifier(300, min_samples_leaf=3, random_state=seed, n_jobs=-1),
                  "boosting": lambda: HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05,
                                                                     random_state=seed)}
    if kind not in models:
        raise BaselineError(f"features baseline: unknown classifier {kind!r}; choose one of: {', '.join(models)}")
    return make_pipeline(StandardScaler(), models[kind]())


class FeaturesBaseline(Baseline):
    """Hand-crafted affective features + a scikit-learn model fitted on the training items only."""

    name = "features"

    def __init__(self, spec):
        super().__init__(spec)
        self.kind = self.typed_options.classifier  # choices and defaults: engine.models.catalog
        self.side = self.typed_options.side
        self.method = f"features/{self.kind}"
        self.models: dict[str, Any] = {}
        self.train_keys: set[str] = set()

    async def prepare(self, context: PrepareContext) -> None:
        await asyncio.to_thread(self._fit, context)

    def _fit(self, context: PrepareContext) -> None:
        dataset, task = context.dataset, context.task
        rows, keys, items = [], [], []
        for item in dataset.items:
            part = context.load_image(item)
            if part is None:
                continue
            try:
                rows.append(affect_features(_decode(part.data), self.side))
            except ValueError:
                continue  # an unreadable training image is left out; the runner records it elsewhere
            keys.append(item_key(dataset, item))
            items.append(item)
        if not rows:
            raise BaselineError(f"features baseline: dataset {dataset.name!r} has no readable training items; "
                                "it needs a train split (e.g. `split: train` items or a `splits: {train: ...}` "
                                "list) to learn from")
        x = np.vstack(rows)
        self.train_keys = set(keys)
        for dim in _answerable(task.dimensions):
            targets = [gold_target(item, dim, dataset, task) for item in items]
            mask = np.array([t is not None for t in targets])
            if mask.sum() < 2:
                continue
            y = np.array([t for t in targets if t is not None], dtype=float if dim in CONTINUOUS else object)
            if dim not in CONTINUOUS and len(set(y)) < 2:
                self.models[dim] = ("constant", y[0])
                continue
            estimator = make_estimator(self.kind, dim in CONTINUOUS, context.seed)
            estimator.fit(x[mask], y)
            self.models[dim] = ("model", estimator)
        if not self.models:
            raise BaselineError(f"features baseline: the training items of {dataset.name!r} carry no gold for "
                                f"{', '.join(task.dimensions)}; nothing to learn")

    def answer(self, request: ModelRequest) -> dict[str, Any]:
        if not self.models:
            raise BaselineError("features baseline was not prepared: it needs training items first")
        if request.item_key in self.train_keys:
            raise BaselineError("this item was one of the training items; the features baseline answers "
                                "held-out items only")
        x = affect_features(request_image(request), self.side)[None, :]
        values: dict[str, Any] = {}
        probabilities: dict[str, dict[str, float]] = {}
        for dim, (kind, model) in self.models.items():
            if kind == "constant":
                values[dim], probabilities[dim] = model, {model: 1.0}
            elif dim in CONTINUOUS:
                values[dim] = float(model.predict(x)[0])
            else:
                proba = model.predict_proba(x)[0]
                probabilities[dim] = {str(c): float(p) for c, p in sorted(zip(model.classes_, proba), key=lambda t: -t[1])}
                values[dim] = next(iter(probabilities[dim]))
        wanted = set(request.task.dimensions)
        if "emotion" in probabilities:
            values["ranking"] = list(probabilities["emotion"])
            values["distribution"] = probabilities["emotion"]
        answer = {dim: value for dim, value in values.items() if dim in wanted}
        main = next((dim for dim in ("emotion", "polarity") if dim in answer), None)
        if main is not None:
            answer["confidence"] = probabilities[main][answer[main]]
        return answer


def _decode(data: bytes):
    from PIL import UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(str(exc)) from exc
    return image.convert("RGB")


# ------------------------------------------------------------------------------------ benchmark
def dataset_features(dataset, side: int = 128) -> tuple[np.ndarray, list]:
    """Features of every item whose image file opens (read straight from the dataset folder)."""
    rows, kept = [], []
    for item in dataset.items:
        path = dataset.image_file(item)
        try:
            with Image.open(path) as image:
                rows.append(affect_features(image.convert("RGB"), side))
        except (OSError, TypeError, ValueError):
            continue
        kept.append(item)
    return np.vstack(rows), kept


def cross_validate(dataset, dimension: str, folds: int = 5, seed: int = 0, *, classifier: str = "logistic",
                   features: tuple[np.ndarray, list] | None = None) -> dict[str, Any]:
    """Stratified k-fold cross-validation of the features baseline on one dimension of `dataset`.

    Returns accuracy (mean over folds), its standard deviation and the majority-class accuracy for
    categorical dimensions; Pearson r and MAE for continuous ones; plus `n` and `folds`.
    Pass `features=dataset_features(dataset)` to reuse features across calls.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    x, items = features if features is not None else dataset_features(dataset)
    task = TaskSpec(dimensions=(dimension,), taxonomy=dataset.taxonomy or "ekman7")
    targets = [gold_target(item, dimension, dataset, task) for item in items]
    mask = np.array([t is not None for t in targets])
    x, y = x[mask], np.array([t for t in targets if t is not None], dtype=object)
    continuous = dimension in CONTINUOUS
    splitter = (KFold(folds, shuffle=True, random_state=seed) if continuous
                else StratifiedKFold(folds, shuffle=True, random_state=seed))
    scores = []
    for train, test in splitter.split(x, y if not continuous else None):
        model = make_estimator(classifier, continuous, seed)
        model.fit(x[train], y[train].astype(float) if continuous else y[train])
        predicted = model.predict(x[test])
        if continuous:
            truth = y[test].astype(float)
            scores.append((float(np.corrcoef(predicted, truth)[0, 1]), float(np.abs(predicted - truth).mean())))
        else:
            scores.append(float(np.mean(predicted == y[test])))
    result: dict[str, Any] = {"dimension": dimension, "classifier": classifier, "n": int(len(y)), "folds": folds}
    if continuous:
        result.update(pearson=float(np.mean([s[0] for s in scores])), mae=float(np.mean([s[1] for s in scores])))
    else:
        values, counts = np.unique(y.astype(str), return_counts=True)
        result.update(accuracy=float(np.mean(scores)), accuracy_sd=float(np.std(scores)),
                      majority=float(counts.max() / counts.sum()))
    return result
