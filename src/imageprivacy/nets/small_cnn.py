"""Small victims: a two-layer CNN and a linear classifier.

They answer "does the protection also hold against a weak learner?" and train in seconds on CPU.
"""
from __future__ import annotations

import torch
from torch import nn

from imageprivacy.errors import InputShapeError


class SmallCNN(nn.Module):
    """conv(width)-BN-ReLU-pool, conv(2*width)-BN-ReLU-pool, linear 128, linear head.

    About 0.4 M parameters at the default width 32. The features are pooled adaptively to 7x7
    (what a 28x28 input gives after two pools) so the linear layers fit any input size.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 32, hidden: int = 128):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width),
            nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 49, hidden), nn.ReLU(inplace=True),
                                        nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class LinearClassifier(nn.Module):
    """Flatten + one linear layer: it sees raw pixels, so it is tied to one input size."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int | tuple[int, int] = 28):
        super().__init__()
        h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        self.input_shape = (in_channels, int(h), int(w))
        self.linear = nn.Linear(in_channels * int(h) * int(w), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Fail with the sizes in the message rather than a matmul shape error.
        if tuple(x.shape[1:]) != self.input_shape:
            raise InputShapeError(f"LinearClassifier was built for inputs (N, {', '.join(map(str, self.input_shape))}), "
                                  f"got {tuple(x.shape)}")
        return self.linear(torch.flatten(x, 1))
