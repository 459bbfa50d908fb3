#!/usr/bin/env bash
# One command for a fresh machine: set up, check and build the bundled shop example, and let promtool judge it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
relc check examples/shop
relc build examples/shop -o out
if command -v promtool >/dev/null 2>&1; then
  promtool check rules out/prometheus/*.yml
fi
echo "quickstart: rules are in out/prometheus/"
