#!/usr/bin/env bash
# Installs everything imageprivacy needs on a fresh Debian machine; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
apt_install() {
  # A fresh image may have no package lists yet; they are fetched only when something is missing.
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y "$@" >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y "$@" >/dev/null; }
}
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ -z "${IMAGEPRIVACY_DATA:-}" ]; then
  # The embedded default data set: Debian's package ships Fashion-MNIST as gzipped IDX files.
  apt_install dataset-fashion-mnist
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  # The web page's browser test (tests/web/test_browser.py) drives Debian's chromium headless
  # through its own chromedriver, so nothing is downloaded while the tests run.
  apt_install chromium chromium-driver
fi
# torch first: pyproject.toml accepts torch >=2.4,<2.14, and a torch in that range (a GPU build too)
# is kept. Without one, pip would resolve torch itself and could pull a multi-GB CUDA build, so the
# CPU build the tests run on, 2.13.0, is installed here before the package.
python3 - <<'PY' 2>/dev/null || python3 -m pip install --quiet torch==2.13.0
import sys
import torch
version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
sys.exit(0 if (2, 4) <= version < (2, 14) else 1)
PY
# The ray extra too: the tests marked `ray` run `protect --engine ray` on a local Ray (~50 s to install).
python3 -m pip install --quiet -e '.[test,ray]'
