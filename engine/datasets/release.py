"""Helpers the loaders of official releases share: finding a release's files, class folders, code
tables, and vote counts turned into gold.

Every loader maps its own codes with its own table (the code orders of FER2013, RAF-DB, AffectNet and
CK+ all differ); these helpers only apply a table, never share one.
"""

from __future__ import annotations

from pathlib import Path

from engine.datasets.base import Gold, LoadProblem
from engine.errors import DatasetError
from engine.taxonomy import get_taxonomy, normalize_label

__all__ = ["find_path", "visible_dirs", "image_files", "label_gold", "coded_label", "votes_gold",
           "polarity_gold", "IMAGE_SUFFIXES", "add_polarity"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
TIE_TOLERANCE = 1e-9


def find_path(root: Path, candidates: tuple[str, ...], what: str, loader: str, *, folder: bool = False) -> Path:
    """The first of `candidates` (paths relative to `root`) that exists; DatasetError listing them otherwise."""
    for candidate in candidates:
        path = root / candidate
        if (path.is_dir() if folder else path.is_file()):
            return path
    tried = ", ".join(candidates)
    raise DatasetError(f"{loader}: no {what} under {root} (looked for {tried}); point path at the folder the "
                       f"release unpacks to, or see `affectlens datasets list` for its layout")


def visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def image_files(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES, recursive: bool = True) -> list[Path]:
    """Image-named files under `folder` (hidden files and folders skipped), sorted."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in suffixes
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def label_gold(raw: str, taxonomy: str, what: str = "label") -> Gold:
    """Categorical gold for one label string; ValueError naming the nearest labels if it is not one."""
    match = normalize_label(raw, taxonomy)
    if not match.ok:
        raise ValueError(f"{what} {match.explain()} of {taxonomy}")
    return Gold(label=match.label, labels=(match.label,), taxonomy=taxonomy)


def coded_label(cell, table: dict[int, str], column: str) -> str:
    """`table[int(cell)]`; ValueError naming the column and the valid codes otherwise."""
    try:
        code = int(float(str(cell).strip()))
        if float(str(cell).strip()) != code:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"column {column!r} holds {cell!r}, not an integer code") from None
    if code not in table:
        raise ValueError(f"{column} code {code} is not one of {min(table)}-{max(table)}")
    return table[code]


def polarity_gold(labels: tuple[str, ...], taxonomy: str) -> Gold | None:
    """Two-way polarity shared by every label in `labels` (its taxonomy's polarity), or None."""
    tax = get_taxonomy(taxonomy)
    polarities = {tax.label(label).polarity for label in labels}
    if len(polarities) == 1 and polarities <= {"positive", "negative"}:
        polarity = polarities.pop()
        return Gold(label=polarity, labels=(polarity,), taxonomy="polarity2")
    return None


def add_polarity(gold: dict[str, Gold]) -> dict[str, Gold]:
    """Add `polarity` gold from the `emotion` gold where all its (tied) labels share one polarity."""
    emotion = gold.get("emotion")
    if emotion is not None and emotion.labels and emotion.taxonomy:
        polarity = polarity_gold(emotion.labels, emotion.taxonomy)
        if polarity is not None:
            gold["polarity"] = polarity
    return gold


def votes_gold(votes: dict[str, float], taxonomy: str) -> dict[str, Gold]:
    """Vote counts over a taxonomy's labels -> `distribution` (shares) and `emotion` (the majority).

    A tied majority is kept as a tie: `labels` lists every top label and `label` is None, never
    broken at random. `n_raters` is the number of votes. No votes at all raises ValueError.
    """
    total = sum(votes.values())
    if total <= 0:
        raise ValueError("has no votes for any emotion")
    if any(v < 0 for v in votes.values()):
        raise ValueError("has a negative vote count")
    order = get_taxonomy(taxonomy).names
    top = max(votes.values())
    tied = tuple(label for label in order if votes.get(label, 0) >= top - TIE_TOLERANCE)
    n = int(round(total))
    return {
        "distribution": Gold(distribution={label: votes.get(label, 0) / total for label in order},
                             taxonomy=taxonomy, n_raters=n),
        "emotion": Gold(label=tied[0] if len(tied) == 1 else None, labels=tied, taxonomy=taxonomy, n_raters=n),
    }


def problem(where: str, message: str) -> LoadProblem:
    return LoadProblem(where, message)
