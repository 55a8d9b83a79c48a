"""Per-image protection cost of ConfounderGAN vs EMN on the same images and machine, in one run.

    python benchmarks/protection_cost.py [--images 512] [--generator GEN.safetensors] [--device cpu]

ConfounderGAN protects an image with one forward pass of a generator trained once; EMN (sample-
wise) protects a set by its bi-level optimisation. Both costs are measured here on the same
Fashion-MNIST images:
- ConfounderGAN: seconds per image of `protect` (uint8 in and out), and separately the one-off
  generator training (timed here when no --generator is given, on the same images);
- EMN: the whole bi-level fit on the images divided by their number (its cost to protect them),
  and the cheaper transductive protection of new images against the fitted surrogate.
Writes JSON (default benchmarks/results/protection_cost.json) with the ratios.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from imageprivacy.data import load_dataset
from imageprivacy.experiments.provenance import provenance, write_results
from imageprivacy.protections import ConfounderGAN, ErrorMinimizingNoise, load_protection


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--generator", default=None, help="a trained generator; default: train one here")
    parser.add_argument("--emn-width", type=int, default=16)
    parser.add_argument("--emn-max-rounds", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "protection_cost.json"))
    args = parser.parse_args()
    torch.manual_seed(0)
    train = load_dataset(args.data, split="train", data_dir=args.data_dir)
    order = train.shuffled_indices(0)
    data = train.subset(order[:args.images].sort().values)
    new = train.subset(order[args.images:2 * args.images].sort().values)
    epsilon = 16 / 255 if data.channels == 1 else 8 / 255

    if args.generator:
        gan, gan_fit = load_protection(args.generator, device=args.device), None
    else:
        gan = ConfounderGAN(epsilon=epsilon, device=args.device)
        gan_fit = seconds(lambda: gan.fit(data))
    gan.protect(data.images[:8])                                    # warm-up
    gan_protect = seconds(lambda: gan.protect(data.images)) / len(data)

    emn = ErrorMinimizingNoise(epsilon=epsilon, surrogate_width=args.emn_width, max_rounds=args.emn_max_rounds,
                               device=args.device)
    emn_fit = seconds(lambda: emn.fit(data)) / len(data)
    emn_new = seconds(lambda: emn.protect(new.images, new.labels)) / len(new)

    result = {
        "benchmark": "protection_cost", "data": args.data, "images": len(data), "epsilon": epsilon,
        "confoundergan": {"protect_seconds_per_image": gan_protect, "generator_fit_seconds": gan_fit,
                          "generator": args.generator or "trained here on the same images", "repr": repr(gan)},
        "emn": {"fit_seconds_per_image": emn_fit, "new_image_protect_seconds_per_image": emn_new,
                "fit_record": emn.fit_record, "repr": repr(emn)},
        "ratio_emn_fit_vs_confoundergan_protect": emn_fit / gan_protect,
        "ratio_emn_new_images_vs_confoundergan_protect": emn_new / gan_protect,
        **provenance(args.device)}
    if gan_fit is not None:     # the generator's training amortised over these images only (worst case for it)
        result["ratio_emn_fit_vs_confoundergan_fit_and_protect"] = emn_fit / (gan_protect + gan_fit / len(data))
    write_results(result, args.out)
    print(f"ConfounderGAN {gan_protect * 1e3:.3f} ms/image; EMN {emn_fit * 1e3:.1f} ms/image (fit), "
          f"{emn_new * 1e3:.1f} ms/image (new images); ratio {result['ratio_emn_fit_vs_confoundergan_protect']:.0f}x"
          f" -> {args.out}")


if __name__ == "__main__":
    main()
