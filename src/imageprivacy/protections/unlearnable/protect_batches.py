"""Protecting many files' pixels in few `protect` calls: same-shape inputs go together.

Images (or channel parts, protected_pixels.split) of the same dtype and (C, H, W) are protected
together, up to `batch_size` of them and BATCH_VALUES_LIMIT values, so many small images run fast
and one large image runs alone. Images wait for batch-mates only within PENDING_VALUES_LIMIT. An image
is handed to `finish` once all its parts are back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from imageprivacy.data.image_files import DecodedImage
from imageprivacy.protections.base import Protection
from imageprivacy.protections.unlearnable.protected_pixels import split

BATCH_VALUES_LIMIT = 1 << 24     # pixel values per protect() call (64 MB as float); a bigger image goes alone
PENDING_VALUES_LIMIT = 1 << 26   # values of decoded images waiting for batch-mates (64 MB as uint8)


@dataclass
class Waiting:
    item: Any                   # what the caller needs to write the image (its job, its record)
    image: DecodedImage
    parts: list                 # the protected parts (see split), filled in as their batches run
    missing: int


class Batcher:
    def __init__(self, protection: Protection, batch_size: int, finish: Callable[[Waiting], None],
                 use_labels: bool = False):
        self.protection, self.batch_size, self.finish, self.use_labels = protection, batch_size, finish, use_labels
        self.buckets: dict[tuple, list] = {}
        self.waiting_values = self.waiting_parts = 0

    def add(self, item: Any, image: DecodedImage, label: int | None = None) -> None:
        parts = split(image, self.protection.channels)
        waiting = Waiting(item, image, [None] * len(parts), len(parts))
        for index, part in enumerate(parts):
            key = (part.dtype, tuple(part.shape))
            bucket = self.buckets.setdefault(key, [])
            bucket.append((waiting, index, part, label))
            self.waiting_values, self.waiting_parts = self.waiting_values + part.numel(), self.waiting_parts + 1
            if len(bucket) >= self.batch_size or (len(bucket) + 1) * part.numel() > BATCH_VALUES_LIMIT:
                self.flush(key)
        # Many different sizes: do not hold them all; protect the fullest batch so far.
        while self.waiting_values > PENDING_VALUES_LIMIT or self.waiting_parts > 4 * self.batch_size:
            self.flush(max(self.buckets, key=lambda shape: len(self.buckets[shape])))

    def flush_all(self) -> None:
        while self.buckets:
            self.flush(next(iter(self.buckets)))

    def flush(self, key: tuple) -> None:
        entries = self.buckets.pop(key)
        labels = None
        if self.use_labels:
            labels = torch.tensor([label for *_, label in entries], dtype=torch.long)
        parts = [part for _, _, part, _ in entries]
        # One image alone (a large photo): a view, not a stacked copy of it.
        batch = parts[0].unsqueeze(0) if len(parts) == 1 else torch.stack(parts)
        del parts
        protected = self.protection.protect(batch, labels)
        del batch
        for (waiting, index, part, _), out in zip(entries, protected):
            waiting.parts[index], waiting.missing = out, waiting.missing - 1
            self.waiting_values, self.waiting_parts = self.waiting_values - part.numel(), self.waiting_parts - 1
            if waiting.missing == 0:
                self.finish(waiting)
                waiting.parts, waiting.image = [], None      # `finish` keeps what it still needs
