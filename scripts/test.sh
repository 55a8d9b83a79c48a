#!/usr/bin/env bash
# Sets up a fresh machine, then runs the fast test suite (CI runs exactly this). Extra args go to pytest,
# e.g. `scripts/test.sh -m slow` for the long tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
python3 -m pytest -q "$@"
