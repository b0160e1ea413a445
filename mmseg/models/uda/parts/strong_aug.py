"""DACS strong augmentation: colour jitter and Gaussian blur of images."""
import math
from typing import Any, Dict, Mapping, Optional, Tuple

import kornia
import torch


def blur_kernel_size(length: int) -> int:
    """Odd kernel size ``floor(ceil(0.1 L) - 0.5 + ceil(0.1 L) mod 2)``.

    51 for L = 512, 103 for L = 1024.
    """
    tenth = math.ceil(0.1 * length)
    return int(math.floor(tenth - 0.5 + tenth % 2))


def _norm_tensors(
        img: torch.Tensor,
        img_norm_cfg: Mapping[str, Any]) -> Tuple[torch.Tensor, torch.Tensor]:
    try:
        mean, std = img_norm_cfg['mean'], img_norm_cfg['std']
    except KeyError as err:
        raise KeyError(f'strong_aug.py: img_norm_cfg lacks {err}') from None

    def as_tensor(values: Any) -> torch.Tensor:
        return torch.as_tensor(values, dtype=img.dtype,
                               device=img.device).view(1, -1, 1, 1)

    return as_tensor(mean), as_tensor(std)


class StrongAugmentation:
    """Colour jitter (probability ``1 - p``) then Gaussian blur (0.5).

    The draws are made once per iteration by :meth:`draw_params` and shared
    by the whole batch: jitter iff ``color_jitter > p``, blur iff
    ``blur > 0.5`` (``blur`` is 0 when blurring is off) with ``sigma`` in
    ``[0.15, 1.15)``. The jitter uses kornia's ``ColorJiggle`` (the legacy
    ``ColorJitter`` semantics of the reference: additive brightness, hue
    shifted by ``[-s, s]`` turns, random order, values clamped to [0, 1]),
    which draws its per-image factors from torch's global generator.
    Images are normalised ``[B, 3, H, W]``; labels are never touched.
    """

    def __init__(self,
                 color_jitter_strength: float = 0.2,
                 color_jitter_probability: float = 0.2,
                 blur: bool = True) -> None:
        self.color_jitter_strength = color_jitter_strength
        self.color_jitter_probability = color_jitter_probability
        self.blur = blur

    def draw_params(
            self,
            generator: Optional[torch.Generator] = None) -> Dict[str, float]:
        """This iteration's draws: ``color_jitter``, ``blur``, ``sigma``."""
        draws = torch.rand(3, generator=generator).tolist()
        return dict(color_jitter=draws[0],
                    blur=draws[1] if self.blur else 0.0,
                    sigma=0.15 + draws[2])

    def __call__(self, img: torch.Tensor, img_norm_cfg: Mapping[str, Any],
                 params: Mapping[str, float]) -> torch.Tensor:
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError(f'strong_aug.py: img must be [B, 3, H, W], got '
                             f'{tuple(img.shape)}')
        if params['color_jitter'] > self.color_jitter_probability:
            img = self.color_jitter(img, img_norm_cfg)
        if params['blur'] > 0.5:
            img = self.gaussian_blur(img, params['sigma'])
        return img

    def color_jitter(self, img: torch.Tensor,
                     img_norm_cfg: Mapping[str, Any]) -> torch.Tensor:
        """Denormalise to [0, 1], jitter, normalise again."""
        mean, std = _norm_tensors(img, img_norm_cfg)
        s = self.color_jitter_strength
        jitter = kornia.augmentation.ColorJiggle(brightness=s,
                                                 contrast=s,
                                                 saturation=s,
                                                 hue=s,
                                                 p=1.0)
        unit = (img * std + mean) / 255.0
        return (jitter(unit) * 255.0 - mean) / std

    @staticmethod
    def gaussian_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
        kernel = (blur_kernel_size(img.shape[2]),
                  blur_kernel_size(img.shape[3]))
        return kornia.filters.gaussian_blur2d(img, kernel, (sigma, sigma))
