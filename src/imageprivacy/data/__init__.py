"""Image sets and the loaders of the standard on-disk formats."""
from imageprivacy.data.imageset import ImageSet

__all__ = ["ImageSet"]
