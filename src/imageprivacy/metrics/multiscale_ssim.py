"""MS-SSIM (Wang, Simoncelli & Bovik 2003) and PSNR per image, with parameters that fit small images.

torchmetrics' MS-SSIM with its defaults (5 scales, 11-pixel window, sigma 1.5) does not fit 28x28
or 32x32 images (docs/background.md section 3): it needs side >= 2**scales, side // (scales - 1)**2 >
kernel - 1, and its Gaussian window is really int(3.5 sigma + 0.5) * 2 + 1 pixels whatever
`kernel_size` says. `MSSSIMParams.for_size` picks, once per image size:
- 3 scales; exponents = Wang's first three (0.0448, 0.2856, 0.3001) rescaled to sum to 1, so each
  scale keeps its relative weight and the index stays on SSIM's scale;
- the largest odd window <= 11 that passes torchmetrics' check, sigma = 1.5 * window / 11 (the same
  rule as imageprivacy.metrics.image_quality), which makes the real Gaussian window equal to `kernel_size`:
  28x28 -> window 7, sigma 0.955; 16x16 -> 3, 0.409; 64x64 and up -> 11, 1.5;
- data_range 1.0 always (None would infer it per batch); similarity and contrast terms clamped at
  0 (torchmetrics' normalize="relu"), since a negative term to a fractional power is NaN.
The same parameters serve as training loss and as reported metric, and results.json states them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from imageprivacy.errors import InputShapeError
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure, peak_signal_noise_ratio

WANG_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SCALES = 3


@dataclass(frozen=True)
class MSSSIMParams:
    scales: int
    kernel_size: int
    sigma: float
    betas: tuple[float, ...]
    data_range: float = 1.0
    normalize: str = "relu"

    @classmethod
    def for_size(cls, height: int, width: int, scales: int = SCALES) -> "MSSSIMParams":
        side = min(height, width)
        divisor = max(1, scales - 1) ** 2
        kernel = min(11, side // divisor)              # torchmetrics: side // divisor > kernel - 1
        kernel -= 1 - kernel % 2                       # odd
        if side < 2 ** scales or kernel < 3:
            raise InputShapeError(f"MS-SSIM with {scales} scales needs images of at least {3 * divisor}x{3 * divisor}, "
                                  f"got {height}x{width}")
        raw = WANG_BETAS[:scales]
        betas = tuple(round(b / sum(raw), 4) for b in raw)
        return cls(scales, kernel, round(1.5 * kernel / 11, 4), betas)

    def to_dict(self) -> dict:
        return {**asdict(self), "betas": list(self.betas), "library": "torchmetrics",
                "function": "multiscale_structural_similarity_index_measure", "gaussian_kernel": True}


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.dim() != 4 or len(pred) == 0 or pred.shape[1:] != target.shape[1:] or len(target) not in (1, len(pred)):
        raise InputShapeError(f"need non-empty (N, C, H, W) batches of one image shape (the target may be one "
                              f"image), got {tuple(pred.shape)} and {tuple(target.shape)}")


def per_image_msssim(pred: torch.Tensor, target: torch.Tensor, params: MSSSIMParams | None = None) -> torch.Tensor:
    """(N,) MS-SSIM of each pair in [0, 1] images; differentiable; a single target image is broadcast."""
    _check_pair(pred, target)
    params = params or MSSSIMParams.for_size(*pred.shape[2:])
    target = target.expand_as(pred) if len(target) == 1 else target
    return multiscale_structural_similarity_index_measure(
        pred, target.to(pred.dtype), gaussian_kernel=True, sigma=params.sigma, kernel_size=params.kernel_size,
        reduction="none", data_range=params.data_range, betas=params.betas, normalize=params.normalize)


def per_image_psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) PSNR in dB of each pair (data_range 1.0), identical images capped at 100 dB to stay finite."""
    _check_pair(pred, target)
    target = target.expand_as(pred) if len(target) == 1 else target
    psnr = peak_signal_noise_ratio(pred.float(), target.float(), data_range=1.0, reduction="none", dim=(1, 2, 3))
    return psnr.clamp(max=100.0)


@torch.no_grad()
def image_similarity(pred: torch.Tensor, target: torch.Tensor, params: MSSSIMParams | None = None,
                     batch_size: int = 512) -> dict[str, float]:
    """Mean per-image MS-SSIM and PSNR (dB) of reconstructions `pred` against the originals `target`."""
    _check_pair(pred, target)
    params = params or MSSSIMParams.for_size(*pred.shape[2:])
    ms, ps = [], []
    for s in range(0, len(pred), batch_size):
        p, t = pred[s:s + batch_size].float(), target[s:s + batch_size].float()
        ms.append(per_image_msssim(p, t, params))
        ps.append(per_image_psnr(p, t))
    return {"ms_ssim": torch.cat(ms).mean().item(), "psnr_db": torch.cat(ps).mean().item(), "images": len(pred)}
