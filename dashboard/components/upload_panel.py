"""Sidebar panel: upload one image (type and size checked) and see how chosen models read it. The form sits in
the sidebar; the answers are laid out in the main area under the page's title (`show_result`), with the scale
of every answer stated."""

from __future__ import annotations

import streamlit as st

from dashboard import images, jobs, settings, upload
from dashboard.components import layout
from engine.parsing.types import DEFAULT_SCALES

FORM_KEYS = ("upload-models", "upload-strategy")  # kept while the panel is closed
RESULT_KEY = "upload-result"
REQUEST_KEY = "upload-requested"
CHECKED_KEY = "upload-checked"  # (sha256, CheckedUpload | error text): each file is checked once


def _checked(uploaded) -> images.CheckedUpload:
    """The upload's check, done once per file content (reruns reuse it); raises UploadRejected."""
    import hashlib

    data = uploaded.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    cached = st.session_state.get(CHECKED_KEY)
    if not cached or cached[0] != digest:
        try:
            cached = (digest, images.check_upload(uploaded.name, data, max_mb=settings.max_upload_mb()))
        except images.UploadRejected as exc:
            cached = (digest, str(exc))
        st.session_state[CHECKED_KEY] = cached
    if isinstance(cached[1], str):
        raise images.UploadRejected(cached[1])
    return cached[1]


def render(*, enabled: bool) -> None:
    """The panel, drawn only while open (a chosen file is let go when it closes; the answers stay on the page)."""
    with layout.panel("Analyse an image", "panel-upload", icon=":material/add_photo_alternate:") as shown:
        if not shown:
            return
        if not enabled:
            st.caption("Sign in to upload images on this deployment.")
            return
        limit = settings.max_upload_mb()
        uploaded = st.file_uploader("Image", type=images.ALLOWED_EXTENSIONS, key="upload-file",
                                    max_upload_size=max(1, int(limit)),
                                    help=f"JPEG, PNG, WebP, GIF, BMP or TIFF up to {limit:g} MB.")
        choices = {name: name for name in upload.UPLOAD_OFFLINE_MODELS}
        choices.update({label: entry for label, entry in jobs.model_choices().items() if isinstance(entry, dict)})
        models = layout.kept_multiselect("Models", list(choices), "upload-models", [upload.UPLOAD_OFFLINE_MODELS[0]])
        strategy = st.selectbox("Strategy", jobs.STRATEGIES, key="upload-strategy")
        if uploaded is None:
            st.session_state.pop(RESULT_KEY, None)
            st.session_state.pop(CHECKED_KEY, None)
            return
        try:
            checked = _checked(uploaded)
        except images.UploadRejected as exc:
            st.error(str(exc))
            return
        st.image(checked.preview, caption=f"{checked.width}×{checked.height}", width="stretch")
        st.button("Analyse", key="upload-run", icon=":material/psychology:", disabled=not models,
                  on_click=st.session_state.__setitem__, args=(REQUEST_KEY, checked.sha256))
        if st.session_state.get(REQUEST_KEY) == checked.sha256:
            st.session_state.pop(REQUEST_KEY)
            with st.spinner("Asking the models..."):
                try:
                    st.session_state[RESULT_KEY] = (checked.sha256, upload.analyse(
                        checked, [choices[m] for m in models], strategy=strategy), checked.preview, strategy)
                except Exception as exc:  # a model's configuration problem, shown without a traceback
                    st.error(settings.redact(f"Could not analyse the image: {exc}"))
                    return
        result = st.session_state.get(RESULT_KEY)
        if result and result[0] == checked.sha256:
            st.caption(":material/arrow_forward: The answers are on the page, under its title.")


def scale_text(dimension: str, taxonomy: str = "ekman7") -> str:
    """The scale an uploaded image's answer to `dimension` is on (the parser's default scales)."""
    if dimension in DEFAULT_SCALES:
        low, high = DEFAULT_SCALES[dimension]
        ends = {"valence": ("very negative", "very positive"), "arousal": ("calm", "excited"),
                "intensity": ("weak", "strong")}.get(dimension)
        middle = f" · {(low + high) / 2:g} neutral" if dimension == "valence" else ""
        return f"{low:g}–{high:g}" + (f" ({low:g} {ends[0]}{middle} · {high:g} {ends[1]})" if ends else "")
    if dimension == "polarity":
        return "positive or negative"
    if dimension == "emotion":
        from engine.taxonomy import get_taxonomy
        return f"one of the {len(get_taxonomy(taxonomy).names)} {taxonomy} labels"
    return ""


def _close() -> None:
    st.session_state.pop(RESULT_KEY, None)


def show_result() -> None:
    """The last uploaded image's answers, in the main area (called under every page's title): the image, one row
    per model and dimension with the scale the answer is on, spend and calls."""
    result = st.session_state.get(RESULT_KEY)
    if not result or len(result) < 4:
        return
    _sha, answers, preview, strategy = result
    with st.container(border=True, key="upload-result-panel"):
        head, close = st.columns([6, 1])
        head.markdown(f"**Uploaded image** · {answers['model'].nunique()} model(s) · strategy {strategy}")
        close.button("Close", key="upload-close", on_click=_close, icon=":material/close:", type="tertiary")
        left, right = st.columns([1, 5])
        left.image(preview, width="stretch")
        shown = answers.assign(scale=answers["dimension"].map(scale_text),
                               note=answers["note"].map(lambda v: settings.redact(v) if isinstance(v, str) else v))
        right.dataframe(shown[["model", "dimension", "answer", "scale", "status", "note", "cost_usd", "attempts"]],
                        hide_index=True, key="upload-answers", width="stretch", column_config={
                            "scale": st.column_config.TextColumn("scale", width="medium"),
                            "note": st.column_config.TextColumn("read from", width="small"),
                            "cost_usd": st.column_config.NumberColumn("cost (USD)", format="$%.4f")})
        right.caption(f"Valence on {scale_text('valence')}; arousal on {scale_text('arousal')}: the scales the models "
                      "were asked to answer on. Nothing is written to the store.")
