#!/usr/bin/env bash
# One set-up for users, tests and CI: a virtual environment in .venv with AffectLens and every extra.
# torch is pinned in the same pip command as transformers so the resolver takes the CPU build
# instead of pulling several GB of CUDA packages. Re-running is cheap: it reinstalls only when
# pyproject.toml or this script changed. `--browser` also installs Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_PIN=${AFFECTLENS_TORCH:-torch==2.13.0}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.affectlens-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # pip's output goes to a log that is shown only when the install fails.
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q "$TORCH_PIN" -e ".[all]"; } > .venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    echo "error: installing AffectLens failed (full log above and in .venv/pip.log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "note: Chromium not found; the browser tests will be skipped (install chromium to run them)" >&2
  fi
fi
