"""benchmarks/gpu_check.sh: valid bash, and a clear refusal where torch sees no GPU (its --dry-run takes minutes)."""
import subprocess
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "gpu_check.sh"


def test_the_script_parses():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_it_stops_and_says_why(tmp_path):
    done = subprocess.run([str(SCRIPT), str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "no CUDA GPU visible to torch" in done.stderr and "--dry-run" in done.stderr
    assert not (tmp_path / "out").exists()


def test_without_an_output_folder_it_shows_its_usage():
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "gpu_check.sh --dry-run OUT_DIR" in done.stderr
