"""The DPF release API under a short, stable name: `from imageprivacy.dpf import Release`."""
from imageprivacy.errors import UnsafeReleaseError
from imageprivacy.protections.dpf import DeepPoisoningFunction, DPFConfig, Release

__all__ = ["DPFConfig", "DeepPoisoningFunction", "Release", "UnsafeReleaseError"]
