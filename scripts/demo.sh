#!/usr/bin/env bash
# Sets up a fresh machine, then runs the main job: ConfounderGAN on Fashion-MNIST, victims, report.
# Extra args go to `imageprivacy demo` (e.g. --device cuda, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
imageprivacy demo "$@"
