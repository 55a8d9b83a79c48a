#!/usr/bin/env bash
# Sets up a fresh machine, then runs the test suite (CI runs exactly this). Extra args go to pytest,
# e.g. `scripts/test.sh tests/dpf` for one method's tests. The tests that start several processes
# (marked `distributed`, left out of the first run by pyproject.toml) run second, those that start a
# local Ray (marked `ray`) third; exit code 5 means the arguments selected none of them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
python3 -m pytest -q "$@"
python3 -m pytest -q -m distributed "$@" || [ $? -eq 5 ]
python3 -m pytest -q -m ray "$@" || [ $? -eq 5 ]
