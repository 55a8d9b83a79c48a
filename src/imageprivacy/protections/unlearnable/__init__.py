"""Unlearnable-image protections: ConfounderGAN and the baselines it is compared with."""
from imageprivacy.protections.unlearnable.confounder_gan import ConfounderGAN
from imageprivacy.protections.unlearnable.noise_baselines import ClassWiseNoise, RandomNoise

__all__ = ["ConfounderGAN", "ClassWiseNoise", "RandomNoise"]
