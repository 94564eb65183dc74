"""CK+, the Extended Cohn-Kanade dataset (Lucey, Cohn, Kanade, Saragih, Ambadar & Matthews, "The
Extended Cohn-Kanade Dataset (CK+)", CVPR Workshops 2010): 593 posed sequences, 327 with an emotion.

No real label file was available here; the layout is the one the release README describes
(`../shared/layouts/ckplus/SOURCE.md`):

    cohn-kanade-images/S005/001/S005_001_00000011.png
    Emotion/S005/001/S005_001_00000011_emotion.txt     # one number, e.g. "3.0000000e+00"; peak frame only
    FACS/S005/001/S005_001_00000011_facs.txt           # "<AU> <intensity>" lines (optional)

`*_emotion.txt` files are searched anywhere under the root (some copies nest `Emotion_labels/Emotion/`).
No file means no emotion label: such sequences are not items. Codes (README): 0 neutral, 1 anger,
2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise -> fer8.

Each labelled sequence gives its last `frames` frames (default 1, the peak; the GPT-4V benchmark used
3), all with the sequence's label. `meta` holds `subject` (for subject-independent folds: there is no
official split), `sequence`, `frame_from_end` and `facs` (["AU9:4", ...]) where a FACS file exists.
Item ids are the frame file names.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Dataset, Item, LoadProblem, register_loader
from engine.datasets.catalogue import release_info
from engine.datasets.files import set_row_refs
from engine.datasets.release import coded_label, label_gold
from engine.errors import DatasetError

CODES = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear", 5: "happiness", 6: "sadness",
         7: "surprise"}
IMAGES = "cohn-kanade-images"

INFO = release_info("ckplus")


def _facs(path: Path) -> list[str]:
    units = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        cells = line.split()
        if len(cells) >= 2:
            units.append(f"AU{int(float(cells[0]))}:{int(float(cells[1]))}")
    return units


@register_loader("ckplus", INFO)
def load_ckplus(path: str | Path, frames: int = 1) -> Dataset:
    """CK+: the emotion of each labelled sequence on its last `frames` frames; subject in meta."""
    root = Path(path)
    if frames < 1:
        raise DatasetError(f"ckplus: frames must be 1 or more, not {frames}")
    images = root / IMAGES
    if not images.is_dir():
        raise DatasetError(f"ckplus: no {IMAGES}/ folder in {root}; unzip cohn-kanade-images.zip and "
                           "Emotion_labels.zip into one folder and point path at it")
    label_files = sorted(root.rglob("*_emotion.txt"))
    if not label_files:
        raise DatasetError(f"ckplus: no *_emotion.txt under {root}; unzip Emotion_labels.zip there")
    facs = {p.name.replace("_facs.txt", ""): p for p in root.rglob("*_facs.txt")}
    items, refs, problems = [], {}, []
    for label_file in label_files:
        where = label_file.relative_to(root).as_posix()
        peak = label_file.name.replace("_emotion.txt", "")
        try:
            subject, sequence, _ = peak.split("_")
            text = label_file.read_text(encoding="utf-8", errors="replace").strip()
            gold = {"emotion": label_gold(coded_label(text, CODES, "emotion code"), "fer8")}
        except ValueError as exc:
            message = str(exc) if "code" in str(exc) else f"name is not S<subject>_<sequence>_<frame> ({exc})"
            problems.append(LoadProblem(where, f"{message}; the sequence is skipped"))
            continue
        folder = images / subject / sequence
        frames_found = sorted(folder.glob(f"{subject}_{sequence}_*.png")) if folder.is_dir() else []
        if not frames_found:
            problems.append(LoadProblem(where, f"no frames in {IMAGES}/{subject}/{sequence}/; the sequence is skipped"))
            continue
        units = _facs(facs[peak]) if peak in facs else None
        for back, frame in enumerate(reversed(frames_found[-frames:])):
            meta = {"subject": subject, "sequence": sequence, "frame_from_end": back}
            if units is not None:
                meta["facs"] = units
            items.append(Item(frame.name, frame.relative_to(root).as_posix(), dict(gold), meta=meta))
            refs[frame.name] = where
    dataset = Dataset("ckplus", "ckplus", root, items, taxonomy="fer8", problems=problems,
                      meta={"frames": frames})
    return set_row_refs(dataset, refs)
