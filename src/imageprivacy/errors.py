"""Every error this package raises on purpose, one type per kind, so callers catch exactly what went wrong.

All derive from ImagePrivacyError, which the command line (cli/__init__.py) prints as one line and
exit code 2 (OutputError: exit code 3, an output that cannot be written). Each also derives from the
built-in exception a caller would have caught before it existed (ValueError for a bad setting,
OSError for missing data, ...).
"""


class ImagePrivacyError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(ImagePrivacyError, ValueError):
    """A setting the code does not accept: an unknown name (method, experiment, recipe, defence, network) or a
    value out of its range. The message names what is known or allowed."""


class UnknownHookError(ConfigurationError):
    """A hook name that the backbone does not have (the message lists the ones it has)."""


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


class UploadTooLargeError(ImagePrivacyError, ValueError):
    """An upload over the web server's limits: too many pixels in an image, too many files, too many bytes."""


class UnsafeArchiveError(ImagePrivacyError, ValueError):
    """A zip that is not unpacked: not a readable zip, an entry that climbs out of its folder or has an
    absolute path, an entry twice, an encrypted entry, or an entry larger than its header declares."""


class OutputError(ImagePrivacyError, OSError):
    """An output cannot be written where the user asked (read-only folder, a file where a folder must be, a
    full disk, ...). The message says what to fix; the command line exits with 3, not 2, so a script can
    tell a bad OUTPUT from a bad argument."""


class WorkerError(ImagePrivacyError, RuntimeError):
    """A worker process of a job died (killed, out of memory): what was committed before is kept, a re-run resumes."""


class DataLeakError(ImagePrivacyError, RuntimeError):
    """A training stage was given an image of the test part."""


class CheckpointError(ImagePrivacyError, ValueError):
    """A checkpoint or run folder is missing, unreadable, or its config does not match its weights."""


class SuiteMergeError(ConfigurationError):
    """Suite run folders that do not describe one suite run (another config, protected sets or victim runs)."""


class UnsafeReleaseError(ImagePrivacyError, ValueError):
    """Something on its way into a DPF release/ would let its holder compute the private poisoning function."""


class NonFiniteLossError(ImagePrivacyError, ArithmeticError):
    """A training loss came out NaN or infinite."""
