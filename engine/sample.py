"""The demo sample: schematic emotional faces and affective colour scenes, labelled by construction.

Schematic faces follow the line-drawing stimuli of emotion research (e.g. Öhman, Lundqvist & Esteves,
2001, "The face in the crowd revisited: a threat advantage with schematic stimuli", J. Pers. Soc.
Psychol. 80(3); Lundqvist, Esteves & Öhman, 1999): a circle with eyes, brows and a mouth, where only
the brows' slant, the eyes' openness and the mouth's curvature and opening carry the expression:

| emotion   | brows                 | eyes        | mouth                      |
|-----------|-----------------------|-------------|----------------------------|
| happiness | level                 | normal      | upward curve (smile)       |
| anger     | inner ends down (V)   | narrowed    | downward curve, tight      |
| sadness   | inner ends up         | normal      | downward curve             |
| fear      | raised, inner ends up | wide        | open, wide and low         |
| surprise  | raised high           | wide        | open round "O"             |
| neutral   | level                 | normal      | straight line              |

Face colour, background, size, position, stroke width and noise vary at random and independently
of the expression, so nothing but the drawn features tells the emotions apart. Polarity gold is
given where the expression has one (happiness positive; anger, sadness, fear negative).

Colour scenes are drawn as either a warm, bright scene (a yellow-orange-pink sky gradient, a sun,
a green hill: polarity positive) or a dark, cold one (a grey-blue night gradient, heavy clouds,
rain: polarity negative). Each scene's label is what was drawn -- the scene kind chosen before
drawing -- never a quantity measured from the pixels; that warm-bright reads as pleasant and
dark-cold as unpleasant is the colour-emotion association reported by Valdez & Mehrabian (1994).

`generate_sample(folder)` writes `images/*.jpg` and `manifest.csv` (columns: item_id, image, split,
kind, emotion, polarity, plus the drawing parameters) and returns the manifest path. The same seed
gives the same files.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from engine.datasets.files import write_csv

__all__ = ["FACE_EMOTIONS", "SCENE_KINDS", "SAMPLE_VERSION", "generate_sample", "ensure_sample", "draw_face",
           "draw_scene"]

SAMPLE_VERSION = "1"
FACE_EMOTIONS = ("happiness", "anger", "sadness", "fear", "surprise", "neutral")
FACE_POLARITY = {"happiness": "positive", "anger": "negative", "sadness": "negative", "fear": "negative"}
SCENE_KINDS = {"warm-bright": "positive", "dark-cold": "negative"}
SIZE = 224


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> tuple[int, int, int]:
    return tuple(rng.randint(low, high) for _ in range(3))  # type: ignore[return-value]


def _noise(image: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    if amount <= 0:
        return image
    pixels = np.asarray(image, dtype=np.float32)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0.0, amount, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8), "RGB")


def draw_face(emotion: str, rng: random.Random) -> tuple[Image.Image, dict]:
    """One schematic face showing `emotion`; returns the image and the drawing parameters."""
    if emotion not in FACE_EMOTIONS:
        raise ValueError(f"no schematic face for {emotion!r}; choose one of {', '.join(FACE_EMOTIONS)}")
    background = _colour(rng, 40, 235)
    face_fill = _colour(rng, 60, 255)
    ink = (20, 20, 20) if sum(face_fill) > 300 else (245, 245, 245)
    radius = rng.uniform(0.30, 0.42) * SIZE
    cx = SIZE / 2 + rng.uniform(-0.08, 0.08) * SIZE
    cy = SIZE / 2 + rng.uniform(-0.08, 0.08) * SIZE
    width = max(2, round(radius * rng.uniform(0.05, 0.08)))
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=face_fill, outline=ink, width=width)

    # eyes
    eye_dx, eye_y = 0.38 * radius, cy - 0.22 * radius
    eye_r = 0.09 * radius
    eye_h = {"anger": 0.55, "fear": 1.6, "surprise": 1.7}.get(emotion, 1.0) * eye_r
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse([ex - eye_r, eye_y - eye_h, ex + eye_r, eye_y + eye_h], fill=ink)

    # brows: (height above the eye, inner-end offset; negative = inner end lower)
    brow_y = {"surprise": 0.55, "fear": 0.42}.get(emotion, 0.30) * radius
    slant = {"anger": -0.16, "sadness": 0.14, "fear": 0.10}.get(emotion, 0.0) * radius
    brow_len = 0.30 * radius
    for side in (-1, 1):
        outer_x = cx + side * (eye_dx + brow_len / 2)
        inner_x = cx + side * (eye_dx - brow_len / 2)
        base = eye_y - brow_y
        if emotion == "surprise":  # high arch
            box = [min(inner_x, outer_x), base - 0.08 * radius, max(inner_x, outer_x), base + 0.12 * radius]
            draw.arc(box, 200, 340, fill=ink, width=width)
        else:
            draw.line([(outer_x, base), (inner_x, base - slant)], fill=ink, width=width)

    # mouth
    mouth_w = rng.uniform(0.45, 0.6) * radius
    mouth_y = cy + 0.42 * radius
    if emotion == "happiness":
        draw.arc([cx - mouth_w, mouth_y - 0.35 * radius, cx + mouth_w, mouth_y + 0.15 * radius], 20, 160,
                 fill=ink, width=width)
    elif emotion in ("sadness", "anger"):
        depth = 0.30 if emotion == "sadness" else 0.18
        w = mouth_w * (1.0 if emotion == "sadness" else 0.8)
        draw.arc([cx - w, mouth_y, cx + w, mouth_y + 2 * depth * radius], 200, 340, fill=ink, width=width)
    elif emotion == "fear":
        draw.ellipse([cx - mouth_w, mouth_y, cx + mouth_w, mouth_y + 0.16 * radius], fill=ink)
    elif emotion == "surprise":
        r = 0.16 * radius
        draw.ellipse([cx - r, mouth_y - r * 0.4, cx + r, mouth_y + r * 1.6], fill=ink)
    else:
        draw.line([(cx - mouth_w * 0.8, mouth_y + 0.05 * radius), (cx + mouth_w * 0.8, mouth_y + 0.05 * radius)],
                  fill=ink, width=width)
    noise = rng.choice([0.0, 4.0, 10.0])
    image = _noise(image, rng, noise)
    params = {"background": background, "face": face_fill, "radius": round(radius, 1), "center": [round(cx, 1),
              round(cy, 1)], "stroke": width, "noise": noise}
    return image, params


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    t = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.repeat(rows, SIZE, axis=1).astype(np.uint8), "RGB")


def _jitter(colour: tuple[int, int, int], rng: random.Random, spread: int = 18) -> tuple[int, int, int]:
    return tuple(min(255, max(0, c + rng.randint(-spread, spread))) for c in colour)  # type: ignore[return-value]


def draw_scene(kind: str, rng: random.Random) -> tuple[Image.Image, dict]:
    """A warm-bright or dark-cold scene; returns the image and the drawing parameters."""
    if kind not in SCENE_KINDS:
        raise ValueError(f"no scene kind {kind!r}; choose one of {', '.join(SCENE_KINDS)}")
    horizon = rng.uniform(0.55, 0.75) * SIZE
    if kind == "warm-bright":
        top = _jitter(rng.choice([(255, 200, 90), (255, 170, 120), (250, 220, 130)]), rng)
        bottom = _jitter(rng.choice([(255, 140, 160), (255, 120, 60), (255, 235, 180)]), rng)
        image = _gradient(top, bottom)
        draw = ImageDraw.Draw(image)
        sun_r = rng.uniform(0.08, 0.15) * SIZE
        sx, sy = rng.uniform(0.2, 0.8) * SIZE, rng.uniform(0.15, 0.4) * SIZE
        draw.ellipse([sx - sun_r, sy - sun_r, sx + sun_r, sy + sun_r], fill=_jitter((255, 245, 150), rng, 10))
        hill = _jitter(rng.choice([(120, 200, 80), (150, 210, 90), (100, 180, 90)]), rng)
        draw.ellipse([-0.3 * SIZE, horizon, 1.3 * SIZE, horizon + SIZE], fill=hill)
    else:
        top = _jitter(rng.choice([(20, 25, 45), (35, 40, 60), (15, 20, 35)]), rng, 10)
        bottom = _jitter(rng.choice([(50, 60, 80), (40, 45, 70), (60, 65, 75)]), rng, 10)
        image = _gradient(top, bottom)
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(3, 6)):
            w, h = rng.uniform(0.3, 0.6) * SIZE, rng.uniform(0.1, 0.2) * SIZE
            x, y = rng.uniform(-0.1, 0.9) * SIZE, rng.uniform(0.0, 0.35) * SIZE
            draw.ellipse([x - w / 2, y, x + w / 2, y + h], fill=_jitter((55, 60, 72), rng, 10))
        draw.rectangle([0, horizon, SIZE, SIZE], fill=_jitter((25, 30, 38), rng, 8))
        for _ in range(rng.randint(40, 90)):
            x, y = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
            draw.line([(x, y), (x - 3, y + 12)], fill=(120, 130, 150), width=1)
    image = image.filter(ImageFilter.GaussianBlur(rng.choice([0, 0.6, 1.2])))
    noise = rng.choice([0.0, 3.0, 8.0])
    image = _noise(image, rng, noise)
    return image, {"top": top, "bottom": bottom, "horizon": round(horizon, 1), "noise": noise}


def generate_sample(folder: str | Path, *, faces_per_emotion: int = 8, scenes_per_kind: int = 12,
                    train_fraction: float = 1 / 3, seed: int = 0) -> Path:
    """Draw the sample into `folder` (images/ and manifest.csv); returns the manifest path.

    In each class the first `train_fraction` of the drawings are the train split (the `features`
    and `majority` baselines fit on them and few-shot draws exemplars from them); the rest are test.
    """
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    jobs = [("face", e, i, faces_per_emotion) for e in FACE_EMOTIONS for i in range(faces_per_emotion)]
    jobs += [("scene", k, i, scenes_per_kind) for k in SCENE_KINDS for i in range(scenes_per_kind)]
    for kind, label, index, per_class in jobs:
        if kind == "face":
            image, params = draw_face(label, rng)
            emotion, polarity = label, FACE_POLARITY.get(label, "")
        else:
            image, params = draw_scene(label, rng)
            emotion, polarity = "", SCENE_KINDS[label]
        item_id = f"{kind}-{label}-{index:02d}"
        name = f"images/{item_id}.jpg"
        image.save(folder / name, "JPEG", quality=90)
        split = "train" if index < math.ceil(per_class * train_fraction) else "test"
        rows.append({"item_id": item_id, "image": name, "split": split, "kind": kind, "drawn": label,
                     "emotion": emotion, "polarity": polarity, "params": json.dumps(params)})
    manifest = folder / "manifest.csv"
    write_csv(manifest, rows)
    (folder / "VERSION").write_text(f"{SAMPLE_VERSION} seed={seed} faces={faces_per_emotion} "
                                    f"scenes={scenes_per_kind}\n")
    return manifest


def ensure_sample(folder: str | Path, **options) -> Path:
    """The sample's manifest, drawing it first when absent or made by another generator version."""
    folder = Path(folder)
    manifest = folder / "manifest.csv"
    stamp = folder / "VERSION"
    seed = options.get("seed", 0)
    want = (f"{SAMPLE_VERSION} seed={seed} faces={options.get('faces_per_emotion', 8)} "
            f"scenes={options.get('scenes_per_kind', 12)}")
    if manifest.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return manifest
    return generate_sample(folder, **options)
