"""Protections: every method is one class over `Protection`, reachable by name in PROTECTIONS."""
from imageprivacy.protections.base import PROTECTIONS, Protection
from imageprivacy.protections.checkpoint import load_protection, save_protection
from imageprivacy.protections.unlearnable import (ClassWiseNoise, ClassWisePatches, ConfounderGAN,
                                                  ConfounderGANConfig, ErrorMinimizingNoise, RandomNoise)

__all__ = ["PROTECTIONS", "Protection", "load_protection", "save_protection", "ConfounderGAN", "ConfounderGANConfig",
           "ClassWiseNoise", "ClassWisePatches", "ErrorMinimizingNoise", "RandomNoise"]
