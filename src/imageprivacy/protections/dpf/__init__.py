"""Deep Poisoning Functions (Guo et al.): poisoned convolutional features for privacy-safe release."""
from imageprivacy.protections.dpf.dpf_training import train_poisoning_function
from imageprivacy.protections.dpf.poisoning_function import OBJECTIVES, DeepPoisoningFunction, DPFConfig
from imageprivacy.protections.dpf.release import Release, write_private, write_release
from imageprivacy.protections.dpf.stationary import (STATIONARY, GaussianFilter, GaussianNoise, MeanFilter,
                                                     build_stationary)

__all__ = ["DPFConfig", "DeepPoisoningFunction", "GaussianFilter", "GaussianNoise", "MeanFilter", "OBJECTIVES",
           "Release", "STATIONARY", "build_stationary", "train_poisoning_function",
           "write_private", "write_release"]
