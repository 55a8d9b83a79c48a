"""imageprivacy: protect images before you share them.

    from imageprivacy import ConfounderGAN, load_dataset
    cg = ConfounderGAN(epsilon=16 / 255).fit(load_dataset("fashion-mnist"))
    protected = cg.protect(images)        # uint8 or [0, 1] float, (N, C, H, W)
"""
from imageprivacy.data import ImageSet, load_dataset
from imageprivacy.protections import (PROTECTIONS, ClassWiseNoise, ClassWisePatches, ConfounderGAN,
                                      ConfounderGANConfig, ErrorMinimizingNoise, Protection, RandomNoise,
                                      load_protection, save_protection)

__version__ = "0.1.0"
__all__ = ["ImageSet", "load_dataset", "PROTECTIONS", "Protection", "ConfounderGAN", "ConfounderGANConfig",
           "ClassWiseNoise", "ClassWisePatches", "ErrorMinimizingNoise", "RandomNoise", "load_protection",
           "save_protection", "__version__"]
