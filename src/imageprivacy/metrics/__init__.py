"""Image metrics in one place: a protection's cost to the eye, and how well an attacker reconstructs an image.

image_quality: PSNR / SSIM / largest change of protected vs original images;
reconstruction: per-image L1 and SSIM (DPF's loss and score); multiscale_ssim: MS-SSIM and PSNR with
parameters that fit small images (DeepObfuscator's loss and score).
"""
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams, image_similarity, per_image_msssim
from imageprivacy.metrics.reconstruction import per_image_l1, per_image_ssim, reconstruction_scores

__all__ = ["MSSSIMParams", "image_similarity", "per_image_l1", "per_image_msssim", "per_image_ssim",
           "protection_quality", "reconstruction_scores"]
