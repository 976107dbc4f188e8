#!/usr/bin/env bash
# The README's test command: install what the tests need (Python packages, Chromium, the npm packages of tests/js),
# then lint, type-check and run every test; inside a git checkout, fail if the run left anything in it that was
# not there before (a test must write only to temp dirs).
# Debian's chromium serves the browser tests (Playwright's own browser download does not work offline).
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  BEFORE="$(git status --porcelain --untracked-files=all | sort)"
  check_clean() {
    local status=$? left
    left="$(comm -13 <(printf '%s\n' "$BEFORE") <(git status --porcelain --untracked-files=all | sort))"
    if [ -n "$left" ]; then
      printf 'FAIL: the test run left these in the checkout (git status):\n%s\n' "$left" >&2
      exit 1
    fi
    exit "$status"
  }
  trap check_clean EXIT
fi
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# the official JavaScript client for tests/test_clients.py, at the version tests/js/package-lock.json pins
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --prefix tests/js --no-audit --no-fund --silent
# curl, for the API page's curl snippets (tests/test_api_snippets.py runs them as pasted)
if ! command -v curl >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq curl >/dev/null
fi
# axe-core for the accessibility audit (tests/test_browser_a11y.py), pinned in tests/a11y/package-lock.json.
npm ci --prefix tests/a11y --silent --no-audit --no-fund
python -m ruff check .
python -m mypy  # app.py, components/, core/ (strict), bench/, testsupport/: pyproject.toml [tool.mypy]
python -m pytest -q -p no:cacheprovider "$@"
