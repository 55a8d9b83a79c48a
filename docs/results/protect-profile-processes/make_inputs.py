"""Writes /tmp/proto/in (2,000 random 32x32 PNGs in small/, 8 photos in photos/, a fresh generator) and a copy
in /dev/shm/proto/in, as benchmarks/protect_files.py writes them. The other scripts here read them."""
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from protect_files import write_inputs  # noqa: E402

root = Path("/tmp/proto/in")
root.mkdir(parents=True, exist_ok=True)
write_inputs(root, 2000, 8)
shutil.copytree(root, "/dev/shm/proto/in", dirs_exist_ok=True)
