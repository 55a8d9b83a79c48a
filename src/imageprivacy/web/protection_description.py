"""What `GET /health` and the page say about the loaded protection: method, budget, channels, training data.

Everything comes from the protection as its checkpoint rebuilt it (protections/checkpoint.py);
`fitted_on` is empty for checkpoints written before fit recorded it (protections/base.py).
"""
from __future__ import annotations

from pathlib import Path

from imageprivacy.protections.base import Protection
from imageprivacy.web.image_protection import budget_levels

# The unlearnable-image family protects against one thing, whatever the method (docs/baselines.md).
UNAUTHORISED_TRAINING = ("unauthorised training: a model trained on the protected photos without your permission "
                         "learns the added noise as a shortcut instead of what the photos show, so it does worse "
                         "on real photos. People see the same photo, and a model trained on other photos still "
                         "recognises what is in it.")

# One line per registered method (protections/unlearnable/); what each does is in docs/baselines.md.
METHODS = {
    "confoundergan": ("ConfounderGAN", "a generator picks a noise for each image from what the image shows, so "
                                       "the noise follows the image's class", True),
    "emn": ("Error-minimizing noise", "noise that already makes a model's training loss small, so the model "
                                      "learns little from the image (unlearnable examples)", True),
    "classwise": ("Class-wise noise", "one fixed noise pattern per class", True),
    "cwp": ("Class-wise patches", "one patch per class in the lower-right corner; it replaces pixels, so it is "
                                  "not bounded by epsilon", True),
    "random": ("Random noise", "fresh random noise for each image: the control of the experiments", False),
}
_CHANNELS = {1: "grayscale (a colour photo is protected channel by channel)",
             3: "colour (a grayscale photo is protected as colour, then averaged back to gray)"}


def describe_protection(protection: Protection, checkpoint: str | Path | None = None) -> dict:
    """A JSON-ready description of a fitted protection."""
    title, what, protects = METHODS.get(protection.name, (type(protection).__name__, "", True))
    return {
        "method": protection.name,
        "title": title,
        "what_it_does": what,
        "protects_against": UNAUTHORISED_TRAINING if protects else "nothing: it is a baseline that does not protect",
        "details": repr(protection),
        "epsilon": protection.epsilon,
        "bounded": protection.bounded,
        "budget_levels": budget_levels(protection),
        "channels": protection.channels,
        "channels_text": _CHANNELS.get(protection.channels, f"{protection.channels} channels"),
        "classes": list(protection.class_names),
        "needs_class_folders": protection.needs_labels_to_protect,
        "fitted_on": dict(protection.fitted_on),
        "checkpoint": None if checkpoint is None else Path(checkpoint).name,   # never the local path
    }
