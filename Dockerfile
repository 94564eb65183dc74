# The AffectLens dashboard as a container, for sharing results from a server.
#
#   docker build -t affectlens-dashboard .
#   docker run -p 8501:8501 -v "$PWD/results.duckdb:/data/results.duckdb:ro" \
#     -e AFFECTLENS_PASSWORD=change-me affectlens-dashboard
#
# Viewer mode is on: anyone with the address can read the results; running analyses, uploading
# images and choosing another store need the password (or an OpenID Connect sign-in configured in
# /app/.streamlit/secrets.toml). See docs/hosting.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first (a code change does not reinstall them); no torch: the dashboard and the cloud
# and offline models need none.
COPY pyproject.toml README.md ./
COPY engine ./engine
RUN pip install ".[openai,anthropic,gemini]" "streamlit[auth]"

COPY dashboard ./dashboard
COPY data/configs ./data/configs
COPY .streamlit/config.toml ./.streamlit/config.toml

RUN useradd --create-home --uid 1000 affectlens && mkdir -p /data /cache && chown affectlens /data /cache
USER affectlens

# The store is read-only here; thumbnails and sidebar jobs go to /cache.
ENV AFFECTLENS_DB=/data/results.duckdb \
    AFFECTLENS_VIEWER_MODE=1 \
    XDG_CACHE_HOME=/cache \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
  "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "dashboard/app.py", "--server.address=0.0.0.0", "--server.port=8501", \
     "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"]
