#!/usr/bin/env bash
# Sets up a fresh machine, then runs the test suite (CI runs exactly this). Extra args go to pytest,
# e.g. `scripts/test.sh tests/dpf` for one method's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
python3 -m pytest -q "$@"
