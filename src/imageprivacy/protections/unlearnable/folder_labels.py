"""Labels of image files from their class folders, for methods that choose their noise by class.

Class-wise noise, class-wise patches and EMN protect an image with its class's noise, so
`imageprivacy protect` needs each file's label. The labels come from the layout the training
folders use: INPUT/<class name>/.../image. The class names must be those the method was fitted on
(stored in its checkpoint), so a folder named after an unknown class is refused before any work.
"""
from __future__ import annotations

from pathlib import PurePosixPath

from imageprivacy.errors import MissingLabelsError


def labels_from_folders(rels: list[str], class_names: list[str] | None, method: str) -> list[int]:
    """The class index of every relative path `<class>/.../<file>`; MissingLabelsError says which file fails."""
    if not class_names:
        raise MissingLabelsError(f"{method} chooses its noise by class, and its checkpoint names no classes")
    index = {name: i for i, name in enumerate(class_names)}
    labels = []
    for rel in rels:
        parts = PurePosixPath(rel).parts
        if len(parts) < 2:
            raise MissingLabelsError(
                f"{method} chooses its noise by class: put each image in a folder named after its class "
                f"(INPUT/<class>/{parts[-1]}); {rel} has no class folder. Classes: {', '.join(class_names)}")
        if parts[0] not in index:
            raise MissingLabelsError(f"{rel}: folder {parts[0]!r} is not one of the classes {method} was fitted "
                                     f"on ({', '.join(class_names)})")
        labels.append(index[parts[0]])
    return labels
