"""Text for chart cells and axis labels: distinct short labels for long names, and probe cells that say "—"
(with the reason) instead of "nan%"."""

from __future__ import annotations


def short_labels(names, width: int = 34) -> list[str]:
    """Distinct axis labels of at most `width` characters for `names` (e.g. "model · strategy" runs): a long name
    keeps its start and its end around an ellipsis ("tiny-llava-untr…zero-shot+blur"), so names sharing a long
    prefix stay apart; a clash that remains gets a number. Show the full name in the tooltip."""
    given: dict[str, str] = {}  # full name -> its label
    taken: set[str] = set()
    for name in dict.fromkeys(str(n) for n in names):
        short = name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width - width // 2):]
        label, number = short, 2
        while label in taken:
            label, number = f"{short} ({number})", number + 1
        given[name] = label
        taken.add(label)
    return [given[str(n)] for n in names]


def probe_text(value: float, difference: float, stars: str, categorical: bool) -> str:
    """"37% (-0.03*)"; "—" where the change could not be measured, no bracket where the difference is undefined."""
    if value != value:
        return "—"
    shown = f"{value:.0%}" if categorical else f"{value:.2f}"
    return shown + (f" ({difference:+.2f}{stars})" if difference == difference else "")


def probe_gap(row: dict) -> str:
    """Why a probe cell shows "—" or no accuracy difference (empty when it shows both)."""
    if not row.get("n_common"):
        return "no item was asked both with and without this probe"
    answered = row.get("n_both_answered")
    if answered == 0:
        return "no item was answered both with and without this probe"
    if row.get("difference") != row.get("difference"):
        return "no accuracy: the items have no gold for this dimension, or none was answered"
    return ""
