#!/usr/bin/env bash
# The test command: set up (including Chromium for the browser tests), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
