"""The adaptive trainer: knows the protection and holds its generator, and learns to undo it.

ConfounderGAN's generator is meant to be shared (anyone protects photos with one forward pass),
so an unauthorized trainer can have it too. With it and a few clean images of their own (never
the protected originals), they make unlimited (protected, clean) pairs and train a denoiser, then
run the denoiser over the scraped protected images before training. Noise that is a function of
the image is exactly what a network can learn to predict from the protected image, so this is the
attack that matters for an image-dependent method (class-wise noise has no generator to borrow).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imageprivacy.data.imageset import ImageSet


class NoiseRemover(nn.Module):
    """A small residual CNN: predicts the protection noise from the protected image and subtracts it."""

    def __init__(self, channels: int, width: int = 32, depth: int = 5):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.body(x)).clamp(0.0, 1.0)


def fit_noise_remover(protection, clean: ImageSet, epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                      device="cpu", seed: int = 0, progress=None) -> NoiseRemover:
    """Train a NoiseRemover on the attacker's own clean images and their protected copies (MSE)."""
    device = torch.device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    protected = protection.protect_set(clean).images      # the pairs: one forward pass of the generator
    model = NoiseRemover(clean.channels).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(clean), generator=gen)
        total = 0.0
        for start in range(0, len(clean), batch_size):
            idx = order[start:start + batch_size]
            x = clean.images[idx].to(device).float() / 255.0
            x_protected = protected[idx].to(device).float() / 255.0
            loss = F.mse_loss(model(x_protected), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if progress:
            progress("epoch", {"epoch": epoch + 1, "epochs": epochs, "mse": total / len(clean)})
    return model.eval()


@torch.no_grad()
def remove_noise(model: NoiseRemover, images: torch.Tensor, device="cpu", batch_size: int = 512) -> torch.Tensor:
    """uint8 (N, C, H, W) protected images -> uint8 images with the predicted noise removed."""
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device).float() / 255.0
        out.append(torch.round(model(x) * 255.0).to(torch.uint8).cpu())
    return torch.cat(out)
