"""Image metrics in one place: a protection's cost to the eye, and how well an attacker reconstructs an image.

image_quality: PSNR / SSIM / largest change of protected vs original images;
reconstruction: per-image L1 and SSIM (DPF's loss and score); multiscale_ssim: MS-SSIM and PSNR with
parameters that fit small images (DeepObfuscator's loss and score); attacker_side: every reconstruction
score as the best of the raw output, its negative and a remap fitted on public pairs; content_free: the
references (blank, best constant, mean images) a reconstruction score is read against.
"""
from imageprivacy.metrics.attacker_side import IntensityRemap, attacker_side_scores, image_scores
from imageprivacy.metrics.content_free import content_free_references, label_mean_images
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.metrics.multiscale_ssim import MSSSIMParams, image_similarity, per_image_msssim
from imageprivacy.metrics.reconstruction import per_image_l1, per_image_ssim, reconstruction_scores

__all__ = ["IntensityRemap", "MSSSIMParams", "attacker_side_scores", "content_free_references", "image_scores",
           "label_mean_images", "image_similarity", "per_image_l1", "per_image_msssim", "per_image_ssim",
           "protection_quality", "reconstruction_scores"]
