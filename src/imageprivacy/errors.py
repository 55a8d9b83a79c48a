"""Typed errors raised at the public API, so callers can catch exactly what went wrong."""


class ImagePrivacyError(Exception):
    """Base class of every error this package raises on purpose."""


class InputShapeError(ImagePrivacyError, ValueError):
    """A tensor does not have the (N, C, H, W) shape, channel count or size a call needs."""


class InputRangeError(ImagePrivacyError, ValueError):
    """Pixel values lie outside [0, 1] (float) or the tensor has an unsupported dtype."""


class MissingLabelsError(ImagePrivacyError, ValueError):
    """A method needs labels (to fit, or to protect) and the data has none."""


class NotFittedError(ImagePrivacyError, RuntimeError):
    """`protect` or `save` was called before `fit` (or `load`)."""


class DatasetError(ImagePrivacyError, OSError):
    """A data set is missing, incomplete or not in the format its loader reads."""


class CorruptImageError(ImagePrivacyError, OSError):
    """An image file cannot be decoded."""


class CheckpointError(ImagePrivacyError, ValueError):
    """A checkpoint is missing its config, or its config does not match its weights."""
