"""The web tests' generator: an untrained ConfounderGAN checkpoint (nothing is fitted, see samples.py)."""
import pytest

from imageprivacy.protections import load_protection, save_protection
from web.samples import untrained_confoundergan


@pytest.fixture(scope="session")
def generator_file(tmp_path_factory):
    return save_protection(untrained_confoundergan(), tmp_path_factory.mktemp("web") / "untrained.safetensors")


@pytest.fixture(scope="session")
def protection(generator_file):
    return load_protection(generator_file)
