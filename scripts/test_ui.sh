#!/usr/bin/env bash
# test_ui.sh: the frontend test suites, each in its own process (see ui-tests/pytest.ini for why).
#   1. jest unit tests of the extension's pure modules (extension/src/__tests__), ~5 s
#   2. the real-browser test: `jupyter lab` on 127.0.0.1 + Debian's Chromium via Playwright, ~40 s;
#      screenshot in ui-tests/artifacts/sidebar.png
# The handler tests (tests/jupyter_server) run with the main pytest suite.
#
#   usage: bash scripts/test_ui.sh [extra pytest args for the browser test]
# Needs: scripts/build_extension.sh done, `pip install playwright`, `apt-get install chromium`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

bash "$REPO/scripts/build_extension.sh"
PATH="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
(cd "$REPO/extension" && jlpm test --ci)
cd "$REPO/ui-tests"
exec "$PY" -m pytest "$@"
