#!/usr/bin/env bash
# build_extension.sh: build the JupyterLab extension (extension/ -> lakelet/labextension) and make
# this Python's Jupyter serve the fresh bundle. Idempotent: a re-run with nothing changed takes ~1 s.
#
#   usage: bash scripts/build_extension.sh [dev|prod]      (default: dev; prod = minified build)
#
# `pip install -e .` already builds the bundle (hatch-jupyter-builder) but copies it into
# <prefix>/share/jupyter/labextensions/lakelet only at install time; this script rebuilds after
# source changes and refreshes that copy, so no manual `jupyter labextension` step is ever needed.
#
# Environment knobs:
#   PYTHON=...                 interpreter whose Jupyter should serve the extension (default: python)
#   LAKELET_INSTALL_FORCE=1    rebuild even when the sources did not change
#   CI=true                    `jlpm install --immutable`: fail if yarn.lock is not up to date
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXT="$REPO/extension"
OUT="$REPO/lakelet/labextension"
STAMP="$REPO/.cache/extension-build.stamp"
MODE="${1:-dev}"
PY="${PYTHON:-python}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

log() { printf '[build_extension] %s\n' "$*" >&2; }

case "$MODE" in
  dev) BUILD=build ;;
  prod) BUILD=build:prod ;;
  *) log "usage: $0 [dev|prod]"; exit 2 ;;
esac

if ! command -v node >/dev/null 2>&1; then
  log "node not found: the JupyterLab extension is not built (apt-get install nodejs, then re-run)"
  exit 0
fi
if ! "$PY" -c 'import jupyter_builder' 2>/dev/null; then
  log "jupyter-builder (which provides jlpm) is missing: pip install 'jupyter-builder>=1.2,<2' 'jupyterlab>=4.6,<5'"
  exit 1
fi
# package.json scripts call `jlpm` and `jupyter-builder`: put this Python's scripts dir first on PATH
PATH="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH
JLPM=(jlpm)

fingerprint() {
  {
    echo "$MODE"
    "$PY" -c 'import sys; print(sys.prefix)'
    cd "$EXT" && find package.json yarn.lock .yarnrc.yml tsconfig.json install.json src style -type f \
      -not -path '*/__tests__/*' -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

served_is_current() {
  "$PY" - "$OUT" <<'PY'
import json, sys
from pathlib import Path
built = Path(sys.argv[1]) / "package.json"
served = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "lakelet" / "package.json"
try:
    same = json.loads(built.read_text())["jupyterlab"]["_build"] == json.loads(served.read_text())["jupyterlab"]["_build"]
except (OSError, KeyError, ValueError):
    same = False
sys.exit(0 if same and (served.parent / "install.json").is_file() else 1)
PY
}

want="$(fingerprint)"
if [ "${LAKELET_INSTALL_FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
   && [ -f "$OUT/static/style.js" ] && served_is_current; then
  exit 0
fi

t0=$(date +%s)
immutable=()
[ "${CI:-}" = true ] && immutable=(--immutable)
log "jlpm install ${immutable[*]} (cold: ~1.5 min, warm: a few s)"
(cd "$EXT" && "${JLPM[@]}" install "${immutable[@]}" >"$REPO/.cache/jlpm-install.log" 2>&1) || {
  tail -n 30 "$REPO/.cache/jlpm-install.log" >&2; exit 1; }
log "jlpm $BUILD"
(cd "$EXT" && "${JLPM[@]}" run "$BUILD")

# Publish the bundle where this Python's Jupyter looks (same place pip's shared-data puts it).
"$PY" - "$OUT" "$EXT/install.json" <<'PY'
import shutil, sys
from pathlib import Path
src, install_json = Path(sys.argv[1]), Path(sys.argv[2])
dest = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "lakelet"
tmp = dest.with_name(".lakelet-new")
shutil.rmtree(tmp, ignore_errors=True)
shutil.copytree(src, tmp)
shutil.copy2(install_json, tmp / "install.json")
if dest.is_symlink():
    dest.unlink()
elif dest.exists():
    shutil.rmtree(dest)
tmp.rename(dest)
print(f"[build_extension] served from {dest}", file=sys.stderr)
PY
mkdir -p "$(dirname "$STAMP")"
echo "$want" > "$STAMP"
log "done in $(( $(date +%s) - t0 )) s"
