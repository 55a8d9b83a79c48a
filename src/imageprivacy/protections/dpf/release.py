"""The partial release of DPF paper section 3.2.3: what is shared, and what is kept.

RUN_DIR/release/ (shared): featurizer phi1, classifier phi2, the poisoned feature bank P(phi1(S))
with labels and the ids of the images it came from, and manifest.json with what rebuilds phi1 and
phi2 (backbone, width, hook). RUN_DIR/private/ (kept): P and the straw-man reconstructor psi.
Anyone holding P could make (image, poisoned feature) pairs from public images and train the
secondary reconstructor of section 3.2.3, so `write_release` refuses anything that carries P:
a module containing a DeepPoisoningFunction, or any weight equal to one of P's.
Everything is safetensors (no pickle) plus JSON.

    release = Release.load(RUN_DIR / "release")
    release.featurizer, release.classifier          # torch modules, eval mode
    release.features, release.labels, release.image_ids
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from imageprivacy.attacks.dpf.reconstructors import save_reconstructor
from imageprivacy.errors import CheckpointError, InputShapeError, UnsafeReleaseError
from imageprivacy.nets.split_points import BackboneSpec, SplitNet, build_split
from imageprivacy.nets.weights_file import load_state, module_tensors, read_tensors, save_module, save_tensors
from imageprivacy.protections.dpf.poisoning_function import DeepPoisoningFunction

FORMAT = "imageprivacy-dpf-release/1"
FILES = {"featurizer": "featurizer.safetensors", "classifier": "classifier.safetensors",
         "features": "features.safetensors"}
PRIVATE_FILES = {"poisoning_function": "poisoning_function.safetensors", "reconstructor": "reconstructor.safetensors"}


@dataclass
class Release:
    featurizer: nn.Module
    classifier: nn.Module
    features: torch.Tensor        # (N, C, h, w) poisoned features, as released (float16 or float32)
    labels: torch.Tensor          # int64 (N,)
    image_ids: torch.Tensor       # int64 (N,), index of each image in manifest["source"]
    manifest: dict = field(default_factory=dict)

    @property
    def hook(self) -> str:
        return self.manifest["hook"]

    @property
    def class_names(self) -> list[str]:
        return list(self.manifest.get("class_names", []))

    @classmethod
    def load(cls, path: str | Path, device="cpu") -> "Release":
        path = Path(path)
        try:
            manifest = json.loads((path / "manifest.json").read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise CheckpointError(f"{path} holds no readable DPF release manifest.json ({err})") from err
        if manifest.get("format") != FORMAT:
            raise CheckpointError(f"{path}/manifest.json is not a DPF release (format={manifest.get('format')!r})")
        try:
            split = build_split(BackboneSpec(**manifest["backbone"]), manifest["hook"])
            files = {part: path / manifest["files"][part] for part in FILES}
        except (KeyError, TypeError, ValueError) as err:       # UnknownHookError is a ValueError
            raise CheckpointError(f"{path}/manifest.json does not describe a network we can build ({err})") from err
        for part in ("featurizer", "classifier"):
            load_state(getattr(split, part), read_tensors(files[part], f"dpf-{part}")[0], files[part])
        bank, _ = read_tensors(files["features"], "dpf-feature-bank")
        try:
            features, labels, ids = bank["features"], bank["labels"], bank["image_ids"]
        except KeyError as err:
            raise CheckpointError(f"{files['features']} lacks the tensor {err}") from err
        if tuple(features.shape[1:]) != tuple(manifest["feature_shape"]) \
                or not len(features) == len(labels) == len(ids):
            raise CheckpointError(f"{path}: feature bank {tuple(features.shape)}, {len(labels)} labels and {len(ids)} "
                                  f"ids do not match the manifest's feature shape {manifest['feature_shape']}")
        return cls(split.featurizer.to(device).eval(), split.classifier.to(device).eval(), features, labels, ids,
                   manifest)


def _carries(module: nn.Module, withheld: Sequence[nn.Module]) -> str | None:
    """Why `module` would leak a withheld module, or None."""
    if any(isinstance(m, DeepPoisoningFunction) for m in module.modules()):
        return "it contains a DeepPoisoningFunction"
    mine = [t for t in module_tensors(module).values() if t.is_floating_point()]
    for secret in withheld:
        for name, weight in secret.named_parameters():
            w = weight.detach().cpu()
            if w.numel() < 2 or w.min() == w.max():        # constants (fresh BN) identify nothing
                continue
            if any(t.shape == w.shape and torch.equal(t, w) for t in mine):
                return f"it holds a copy of the withheld weight {name!r}"
    return None


def write_release(release_dir: str | Path, split: SplitNet, backbone: BackboneSpec, hook: str,
                  image_shape: Sequence[int], features: torch.Tensor, labels: torch.Tensor, image_ids: torch.Tensor,
                  class_names: Sequence[str], source: str = "", withheld: Sequence[nn.Module] = (),
                  extra: dict | None = None) -> Path:
    """Write release/: phi1, phi2, the (already poisoned) feature bank and manifest.json.

    `withheld` are the modules that must stay private (P): UnsafeReleaseError if phi1 or phi2 carry
    them, or if the directory is named "private".
    """
    release_dir = Path(release_dir)
    if release_dir.name == "private":
        raise UnsafeReleaseError(f"refusing to write a release into {release_dir}: that is the private folder")
    for part in ("featurizer", "classifier"):
        why = _carries(getattr(split, part), withheld)
        if why:
            raise UnsafeReleaseError(f"refusing to release the {part}: {why}; the DPF must stay private")
    if not len(features) == len(labels) == len(image_ids):
        raise InputShapeError(f"{len(features)} features, {len(labels)} labels and {len(image_ids)} ids differ "
                              "in number")
    manifest = {"format": FORMAT, "backbone": asdict(backbone), "hook": hook, "image_shape": list(image_shape),
                "feature_shape": list(features.shape[1:]), "feature_dtype": str(features.dtype).replace("torch.", ""),
                "count": len(features), "class_names": list(class_names), "source": source, "files": FILES,
                **(extra or {})}
    config = {"backbone": asdict(backbone), "hook": hook}
    save_module(release_dir / FILES["featurizer"], split.featurizer, "dpf-featurizer", config)
    save_module(release_dir / FILES["classifier"], split.classifier, "dpf-classifier", config)
    save_tensors(release_dir / FILES["features"], {"features": features.detach().cpu().contiguous(),
                                                   "labels": labels.to(torch.int64).cpu().contiguous(),
                                                   "image_ids": image_ids.to(torch.int64).cpu().contiguous()},
                 "dpf-feature-bank", {"source": source})
    (release_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return release_dir


def write_private(private_dir: str | Path, poisoning_function: DeepPoisoningFunction, reconstructor: nn.Module,
                  dpf_meta: dict | None = None, reconstructor_meta: dict | None = None) -> Path:
    """Write private/: P and the straw-man reconstructor psi, each with its metadata (hook, history, ...)."""
    private_dir = Path(private_dir)
    if (private_dir / "manifest.json").is_file() or private_dir.name == "release":
        raise UnsafeReleaseError(f"refusing to put P into {private_dir}: it is (or holds) a release")
    poisoning_function.save(private_dir / PRIVATE_FILES["poisoning_function"], dpf_meta)
    save_reconstructor(reconstructor, private_dir / PRIVATE_FILES["reconstructor"], reconstructor_meta)
    (private_dir / "README.txt").write_text("Keep this folder private: whoever holds the poisoning function can "
                                            "train a reconstructor for the released features (DPF paper 3.2.3).\n")
    return private_dir
