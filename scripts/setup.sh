#!/usr/bin/env bash
# Install everything relc and its tests need: promtool/amtool from Debian, relc itself editable with test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=none; fi
  if [ "$SUDO" = none ]; then
    echo "setup: promtool not found and no root; install the Debian packages prometheus and prometheus-alertmanager" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
  fi
fi

# node and npm: the editor grammar's tests tokenise with vscode-textmate from the npm registry
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=none; fi
  if [ "$SUDO" = none ]; then
    echo "setup: node/npm not found and no root; install the Debian packages nodejs and npm" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
fi

python3 -m pip install -q --disable-pip-version-check "setuptools>=68" wheel
python3 -m pip install -q --disable-pip-version-check -e ".[test]"
