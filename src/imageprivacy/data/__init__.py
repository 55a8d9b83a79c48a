"""Image sets and the loaders of the standard on-disk formats."""
from imageprivacy.data.image_folder import read_image_folder
from imageprivacy.data.imageset import ImageSet
from imageprivacy.data.registry import DATASETS, default_data_dir, load_dataset

__all__ = ["ImageSet", "load_dataset", "DATASETS", "read_image_folder", "default_data_dir"]
