#!/usr/bin/env bash
# The README's test command: install what the tests need, then lint and run every test.
# Debian's chromium serves the browser tests (Playwright's own browser download does not work offline).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
python -m ruff check .
python -m mypy  # app.py, components/, core/ (strict), bench/, testsupport/: pyproject.toml [tool.mypy]
python -m pytest -q -p no:cacheprovider "$@"
