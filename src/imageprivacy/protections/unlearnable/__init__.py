"""Unlearnable-image protections: ConfounderGAN and the baselines it is compared with."""
from imageprivacy.protections.unlearnable.classwise_patches import ClassWisePatches
from imageprivacy.protections.unlearnable.confounder_gan import ConfounderGAN
from imageprivacy.protections.unlearnable.confoundergan_config import ConfounderGANConfig
from imageprivacy.protections.unlearnable.error_minimizing_noise import ErrorMinimizingNoise
from imageprivacy.protections.unlearnable.noise_baselines import ClassWiseNoise, RandomNoise

__all__ = ["ConfounderGAN", "ConfounderGANConfig", "ClassWiseNoise", "ClassWisePatches", "ErrorMinimizingNoise",
           "RandomNoise"]
