"""The page's address holds its view: every picker writes its value to `st.query_params` and reads it back.

A copied address therefore reopens exactly the view it was copied from. The rule for one picker, on
every rerun:

1. the address wins when it holds a value this session did not write there itself (a link was opened,
   or the address was edited) and that value is one of the picker's options;
2. otherwise the picker keeps what the session holds (the person's last choice);
3. a value that is not among the options (the dataset changed, so the old dimension is gone) falls
   back to the picker's default, and the widget is set to it *before* it is drawn -- so the box never
   shows one value while the page draws another;
4. the drawn value is written back to the address.

Names in the address: the sidebar's filters are `dataset`, `model`, `strategy` and `run` (lists, comma
separated); a page's single choices are `view_dataset`, `eval_set`, `dimension`, `view_model`,
`view_strategy`, `metric`, `baseline`, `item`, ... (`PARAMS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

_WRITTEN = "_address_written"  # session key: param -> the value this session last wrote to the address

#: Address names of the pages' pickers, for the README and the tests.
PARAMS = ("view_dataset", "eval_set", "dimension", "view_model", "view_strategy", "metric", "baseline", "item",
          "show_run", "gold", "predicted", "search", "errors", "sort", "slice_key", "slice", "matrix_metric",
          "matrix_strategy", "map_dataset", "map_item", "reasoning_dataset", "cue_baseline", "probe_dataset",
          "probe_dimension",
          "leaderboard_view", "store_view")  # the Overview's tabs (Streamlit binds them: absent while on the first)


def _written() -> dict[str, str]:
    return st.session_state.setdefault(_WRITTEN, {})


def from_address(param: str) -> str | None:
    """The address's value of `param` when it was put there from outside this session (a link), else None."""
    value = st.query_params.get(param)
    if value is None or _written().get(param) == value:
        return None
    return value


def write(param: str, value: str | Sequence[str] | None) -> None:
    """Put `value` in the address (a list joined by commas; None or empty removes the name)."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    if value is None or value == "":
        if param in st.query_params:
            del st.query_params[param]
        _written()[param] = None
        return
    value = str(value)
    if st.query_params.get(param) != value:
        st.query_params[param] = value
    _written()[param] = value


def resolve(key: str, options: Sequence[str], param: str | None, default: str | None = None) -> str:
    """The value a picker over `options` shows and the page draws (rules 1-3 above); also stored under `key`
    in the session so the widget shows exactly it."""
    options = list(options)
    chosen = from_address(param) if param else None
    if chosen not in options:
        chosen = st.session_state.get(key)
    if chosen not in options:
        chosen = default if default in options else options[0]
    st.session_state[key] = chosen
    return chosen


def list_from_address(param: str) -> list[str]:
    """Every value of a list name in the address (repeated or comma separated)."""
    values = []
    for raw in st.query_params.get_all(param):
        values += [part.strip() for part in raw.split(",") if part.strip()]
    return values
