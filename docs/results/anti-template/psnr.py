"""PSNR of anti-template class noise (label-aware) on the first 10k Fashion-MNIST training images (first 2k scored),
for thresholds T: no noise where |class mean - mean| <= T (anti_template.py's anti@T), and for amplitudes A:
every pixel at A x 16/255 (anti*A; rounded to whole 8-bit levels).

    python docs/results/anti-template/psnr.py > docs/results/anti-template/psnr.txt
"""
import torch

from imageprivacy import load_dataset
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.protections.pixel_budget import apply_noise_uint8

EPS = 16 / 255
train = load_dataset("fashion-mnist", split="train").subset(torch.arange(10000))
x = train.images.float() / 255.0
centred = torch.stack([x[train.labels == k].mean(0) for k in range(10)]) - x.mean(0, keepdim=True)
for tau in (0.0, 0.02, 0.05, 0.1):
    pattern = -torch.sign(centred) * (centred.abs() > tau)
    out = apply_noise_uint8(train.images, EPS * pattern[train.labels], EPS)
    quality = protection_quality(train.images[:2000], out[:2000])
    print(f"T {tau}: PSNR {quality['psnr_mean_db']:.2f} dB, pixels with noise {float((pattern != 0).float().mean()):.3f}")
for amplitude in (1.0, 0.9375, 0.875, 0.75, 0.625):
    out = apply_noise_uint8(train.images, amplitude * EPS * -torch.sign(centred)[train.labels], EPS)
    quality = protection_quality(train.images[:2000], out[:2000])
    print(f"A {amplitude}: PSNR {quality['psnr_mean_db']:.2f} dB, largest change {quality['linf_max_levels']} levels")
