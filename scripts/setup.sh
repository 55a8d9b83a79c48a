#!/usr/bin/env bash
# Installs everything imageprivacy needs on a fresh Debian machine; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ -z "${IMAGEPRIVACY_DATA:-}" ]; then
  # The embedded default data set: Debian's package ships Fashion-MNIST as gzipped IDX files.
  if [ "$(id -u)" = 0 ]; then apt-get install -y dataset-fashion-mnist >/dev/null
  else sudo apt-get install -y dataset-fashion-mnist >/dev/null; fi
fi
# torch first and pinned: without it, resolving the project's requirements could pull a newer CUDA build.
python3 -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
  || python3 -m pip install --quiet torch==2.13.0
python3 -m pip install --quiet -e '.[test]'
