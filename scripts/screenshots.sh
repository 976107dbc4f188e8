#!/usr/bin/env bash
# Refresh the README's screenshots (docs/screenshots/): run the browser tests, which take them, writing there.
# The ordinary test command writes them to a temporary folder and leaves the checkout clean.
set -euo pipefail
cd "$(dirname "$0")/.."
CLARITY_SCREENSHOTS=docs/screenshots python -m pytest -q -p no:cacheprovider -m browser "$@"
