"""The error gallery's thumbnail grid and an item's detail view (image, gold, every answer, traces, raw)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import images
from dashboard.components import charts, export
from dashboard.data import GalleryPage, ItemDetail
from engine.secrets import scrub, scrub_text

try:  # occlusion and attention maps, where the interpretability part is installed
    from dashboard.components import heatmaps
except ImportError:
    heatmaps = None

ITEM_PARAM = "item"
REVEALED_KEY = "gallery-revealed"


def _present(value) -> bool:
    """False for None, NaN, NA and empty lists (the store's nullable columns come back as any of these)."""
    if value is None:
        return False
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) > 0
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def page_number(signature) -> int:
    """The gallery page to draw: the one chosen, or 1 again whenever the filters (`signature`) change."""
    if st.session_state.get("gallery-signature") != signature:
        st.session_state["gallery-signature"] = signature
        st.session_state.pop("gallery-page", None)
    return st.session_state.get("gallery-page", 1)


def open_item(item_id: str) -> None:
    st.query_params[ITEM_PARAM] = item_id


def close_item() -> None:
    st.query_params.pop(ITEM_PARAM, None)


def _revealed(item_id: str) -> bool:
    return item_id in st.session_state.get(REVEALED_KEY, set())


def _reveal(item_id: str) -> None:
    st.session_state.setdefault(REVEALED_KEY, set()).add(item_id)


def grid(page: GalleryPage, *, store: str, blur: bool, columns: int = 6) -> None:
    """Thumbnails with gold label and how many selected runs failed each; "Open" shows the detail view."""
    rows = page.items.to_dict("records")
    for start in range(0, len(rows), columns):
        cells = st.columns(columns)
        for cell, row in zip(cells, rows[start:start + columns]):
            with cell.container(border=True):
                path = images.resolve_image(page.root, row["image_path"], store)
                hidden = blur and not _revealed(row["item_id"])
                picture = images.thumbnail(path, row["image_sha256"], blur=hidden)
                if picture is None:
                    st.caption(":material/hide_image: image not available")
                else:
                    st.image(picture, width="stretch")
                failed_by = ", ".join(row["failed_by"]) if _present(row["failed_by"]) else ""
                gold = row["gold_label"] if _present(row["gold_label"]) else "–"
                sure = row.get("wrong_confidence")
                stated = f" · wrong at {sure:.0%}" if _present(sure) else ""
                st.markdown(f"**{row['item_id']}**  \ngold: {gold}  \n"
                            f"failed {row['n_failed']} of {row['n_runs']} cells{stated}",
                            help=f"failed by: {failed_by or 'none'}" + (
                                f"; the most confident wrong answer stated {sure:.0%}" if stated else ""))
                st.button("Open", key=f"open-{row['item_id']}", on_click=open_item, args=(row["item_id"],),
                          icon=":material/open_in_full:", type="tertiary")


def _answers_side_by_side(answers: pd.DataFrame) -> pd.DataFrame:
    """Rows: model · strategy (as many as there are runs); columns: the few dimensions, so the table grows
    down, never off the side; cells: the label or value, or the failure status."""
    if answers.empty:
        return answers

    def cell(row) -> str:
        if row["status"] not in ("ok", "partial"):
            return {"failed": "(unparsed)", "refused": "(refused)", "error": "(API error)"}.get(row["status"], row["status"])
        shown = row["label"] if _present(row["label"]) else (f"{row['value']:.3g}" if _present(row["value"]) else "–")
        if _present(row["confidence"]):
            shown += f" ({row['confidence']:.0%})"
        return shown + (" (partial)" if row["status"] == "partial" else "")

    table = answers.assign(run=answers["model"] + " · " + answers["strategy"], answer=answers.apply(cell, axis=1))
    wide = table.pivot_table(index="run", columns="dimension", values="answer", aggfunc="first").reset_index()
    wide.columns.name = None
    return wide.fillna("–")


def _gold_table(gold: pd.DataFrame) -> pd.DataFrame:
    def shown(row) -> str:
        if _present(row["label"]):
            return row["label"]
        if _present(row["labels"]):
            return " / ".join(row["labels"]) + " (tie)"
        if _present(row["value"]):
            scale = f" on {row['scale_low']:g}-{row['scale_high']:g}" if _present(row["scale_low"]) else ""
            spread = f" ± {row['sd']:.2f}" if _present(row["sd"]) else ""
            return f"{row['value']:.2f}{spread}{scale}"
        return "rater shares (chart)" if _present(row["distribution"]) else "–"

    return pd.DataFrame({"dimension": gold["dimension"].tolist(), "gold": [shown(r) for r in gold.to_dict("records")],
                         "raters": gold["n_raters"].tolist()})


def detail(item: ItemDetail, *, store: str, blur: bool, models: tuple[str, ...] = ()) -> None:
    """The detail view of one item."""
    record = item.item
    st.button("Back to the gallery", on_click=close_item, icon=":material/arrow_back:", key="gallery-back")
    st.subheader(f"{record['dataset']} / {record['item_id']}")
    left, right = st.columns([2, 3])
    with left:
        path = images.resolve_image(record.get("root"), record.get("image_path"), store)
        hidden = blur and not _revealed(record["item_id"])
        picture = images.thumbnail(path, record.get("image_sha256"), size=images.DETAIL_PX, blur=hidden)
        if picture is None:
            st.info("The image file is not available on this machine.")
        else:
            st.image(picture, width="stretch")
            if hidden:
                st.button("Show image", key="gallery-reveal", on_click=_reveal, args=(record["item_id"],),
                          icon=":material/visibility:", help="Images are blurred until clicked (sidebar setting).")
        meta = record.get("meta")
        if meta:
            with st.expander("Item metadata"):
                st.json(meta)
    with right:
        st.markdown("**Gold annotations**")
        st.dataframe(_gold_table(item.gold), hide_index=True, key="gold-table")
        for raw in [d for d in item.gold["distribution"] if _present(d)]:
            shares = json.loads(raw) if isinstance(raw, str) else raw
            frame = pd.DataFrame({"label": list(shares), "share": [float(v) for v in shares.values()]})
            st.markdown("**Rater distribution**")
            export.chart(charts.distribution(frame, "share of raters"), f"raters-{record['item_id']}", frame,
                         key="rater-distribution")

    st.markdown("**Every model's answer**")
    export.table(_answers_side_by_side(item.answers), f"answers-{record['item_id']}", key="answers")

    if heatmaps is not None:
        with st.expander("Where the models looked (occlusion and attention maps)", icon=":material/blur_on:"):
            heatmaps.item_heatmaps(store, record["dataset"], record["item_id"], models=models, key="gallery-maps")

    traces = [t for t in item.traces.to_dict("records")
              if _present(t["steps"]) or _present(t["scene"]) or _present(t["thinking"])]
    if traces:
        st.markdown("**Reasoning traces**")
        labels = [f"{t['model']} · {t['strategy']}" for t in traces]
        for tab, trace in zip(st.tabs(labels), traces):
            with tab:
                steps = list(trace["steps"]) if _present(trace["steps"]) else []
                for number, step in enumerate(steps, 1):
                    st.markdown(f"{number}. {step}")
                scene = json.loads(trace["scene"]) if isinstance(trace["scene"], str) else None
                if scene:
                    st.markdown("**Scene decomposition**")
                    st.table(pd.DataFrame({"field": list(scene), "text": [str(v) for v in scene.values()]}))
                if _present(trace["thinking"]):
                    with st.expander("Thinking"):
                        st.text(trace["thinking"])

    if len(item.responses):
        st.markdown("**Every call: the prompt sent, the answer (the span the parser read highlighted), what was "
                    "parsed, and its cost**")
        for response in item.responses.to_dict("records"):
            call_record(response, item.answers)


def prompt_text(raw_request) -> str:
    """The text parts of a stored request (any vendor's shape: every string under a "text" or string
    "content" key, in order); images are stored as their sha256 and are not text."""
    if isinstance(raw_request, str):
        try:
            raw_request = json.loads(raw_request)
        except ValueError:
            return raw_request
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "content", "system") and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(raw_request)
    return "\n\n".join(parts)


_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]<>()#+-.!|:$~"})


def highlighted(text: str, spans: list[str]) -> str:
    """`text` as markdown with every parsed span on an orange background (the rest escaped, shown as is)."""
    out, position = [], 0
    marks = sorted({(text.find(s), s) for s in spans if s and text.find(s) >= 0})
    for start, span in marks:
        if start < position:
            continue
        out.append(text[position:start].translate(_MARKDOWN_SPECIAL))
        out.append(f":orange-background[**{span.translate(_MARKDOWN_SPECIAL)}**]")
        position = start + len(span)
    out.append(text[position:].translate(_MARKDOWN_SPECIAL))
    return "".join(out).replace("\n", "  \n")


def call_record(response: dict, answers: pd.DataFrame) -> None:
    """One call: model, strategy, status and run id in the title; tokens, latency and cost; parsed values;
    the prompt; the answer with the parsed spans highlighted; the raw response."""
    sample = response["sample_index"]
    parts = [response["model"], response["strategy"], response["stage"] if _present(response["stage"]) else None,
             f"sample {sample}" if _present(sample) and sample else None, response["status"],
             f"run {response['run_id']}"]
    with st.expander(" · ".join(str(p) for p in parts if p)):
        cost = f"${response['cost_usd']:.4f}" if _present(response["cost_usd"]) else "–"
        latency = f"{response['latency_ms']:,.0f} ms" if _present(response["latency_ms"]) else "–"
        tokens = (f"{int(response['input_tokens']) if _present(response['input_tokens']) else '–'} in / "
                  f"{int(response['output_tokens']) if _present(response['output_tokens']) else '–'} out")
        resolved = response["model_id_resolved"] or "–"
        st.caption(f"run id `{response['run_id']}` · model {resolved} · tokens {tokens} · "
                   f"latency {latency} · cost {cost}")
        if _present(response["error_message"]):
            kind = response["error_class"] if _present(response["error_class"]) else "error"
            # stores written before the one scrub may still hold a key: scrubbed again for display
            st.error(f"{kind}: {scrub_text(response['error_message'])}")
        parsed = answers[answers["response_id"] == response["response_id"]] if "response_id" in answers else answers[:0]
        if len(parsed):
            st.markdown("**Parsed**")
            st.dataframe(parsed[["dimension", "status", "label", "value", "confidence", "span", "method"]],
                         hide_index=True, key=f"parsed-{response['response_id']}")
        prompt = prompt_text(scrub(response["raw_request"])) if _present(response["raw_request"]) else ""
        st.markdown("**Prompt sent**")
        st.code(scrub_text(prompt) if prompt else "(not stored for this call)", language=None, wrap_lines=True)
        st.markdown("**Answer** (highlighted: what the parser read)")
        text = scrub_text(response["text"]) if _present(response["text"]) else ""
        spans = [s for s in parsed["span"].tolist() if isinstance(s, str)] if len(parsed) else []
        if text:
            with st.container(border=True):
                st.markdown(highlighted(text, spans))
        else:
            st.caption("(no answer text)")
        raw = scrub(response["raw_response"])
        if _present(raw):
            with st.popover("Raw response", icon=":material/data_object:"):
                try:
                    st.json(json.loads(raw) if isinstance(raw, str) else raw, expanded=False)
                except ValueError:
                    st.code(str(raw), language=None)
