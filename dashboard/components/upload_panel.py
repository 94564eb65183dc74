"""Sidebar panel: upload one image (type and size checked) and see how chosen models read it."""

from __future__ import annotations

import streamlit as st

from dashboard import images, jobs, settings, upload

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
    with st.expander("Analyse an image", icon=":material/add_photo_alternate:"):
        if not enabled:
            st.caption("Sign in to upload images on this deployment.")
            return
        limit = settings.max_upload_mb()
        uploaded = st.file_uploader("Image", type=images.ALLOWED_EXTENSIONS, key="upload-file",
                                    max_upload_size=max(1, int(limit)),
                                    help=f"JPEG, PNG, WebP, GIF, BMP or TIFF up to {limit:g} MB.")
        choices = {name: name for name in upload.UPLOAD_OFFLINE_MODELS}
        choices.update({label: entry for label, entry in jobs.model_choices().items() if isinstance(entry, dict)})
        models = st.multiselect("Models", list(choices), default=[upload.UPLOAD_OFFLINE_MODELS[0]], key="upload-models")
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
                        checked, [choices[m] for m in models], strategy=strategy))
                except Exception as exc:  # a model's configuration problem, shown without a traceback
                    st.error(settings.redact(f"Could not analyse the image: {exc}"))
                    return
        result = st.session_state.get(RESULT_KEY)
        if result and result[0] == checked.sha256:
            answers = result[1].assign(note=result[1]["note"].map(lambda v: settings.redact(v) if isinstance(v, str) else v))
            st.dataframe(answers, hide_index=True, key="upload-answers")
