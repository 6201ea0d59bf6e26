#!/usr/bin/env bash
# Set up everything the tests need (Python packages, Debian's chromium for the browser tests) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -q -r requirements-test.txt
if ! command -v chromium >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) >/dev/null
fi
python -m pytest -q "$@"
