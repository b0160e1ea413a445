"""DACS strong augmentation: colour jitter and Gaussian blur of images."""
import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple, Union

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


SIGMA_LOW, SIGMA_HIGH = 0.15, 1.15
SIGMA_DRAWS = ('image', 'batch')


@dataclass(frozen=True)
class StrongAugParams:
    """One iteration's strong-augmentation draws (shared by the batch).

    ``color_jitter`` and ``blur`` are ``U(0, 1)`` draws (``blur`` is 0 when
    blurring is off): jitter iff ``color_jitter > p``, blur iff
    ``blur > 0.5``. ``sigma``: the blur's standard deviation in pixels, a
    number for the whole batch, or ``None`` to draw one per image at each
    call (the reference).
    """
    color_jitter: float
    blur: float
    sigma: Optional[float] = None


class StrongAugmentation:
    """Colour jitter (probability ``1 - p``) then Gaussian blur (0.5).

    As in DACS/DAFormer/HRDA (``strong_transform`` applied image by image)
    and PIG (likewise for its prompt mixture): the jitter and blur decisions
    are drawn once per iteration by :meth:`draw_params` and shared by the
    batch, while the blur's ``sigma ~ U(0.15, 1.15)`` is drawn per image at
    every call (``sigma_draw='image'``). ``sigma_draw='batch'`` draws one
    sigma per iteration for the whole batch, as MIC's masked batch (one
    ``strong_transform`` call on the batch). The jitter uses kornia's
    ``ColorJiggle`` (the legacy ``ColorJitter`` semantics of the reference:
    additive brightness, hue shifted by ``[-s, s]`` turns, random order,
    values clamped to [0, 1]), which draws its per-image factors from
    torch's global generator. Images are normalised ``[B, 3, H, W]``;
    labels are never touched.
    """

    def __init__(self,
                 color_jitter_strength: float = 0.2,
                 color_jitter_probability: float = 0.2,
                 blur: bool = True,
                 sigma_draw: str = 'image') -> None:
        if sigma_draw not in SIGMA_DRAWS:
            raise ValueError(f'strong_aug.py: sigma_draw must be one of '
                             f'{SIGMA_DRAWS}, got {sigma_draw!r}')
        self.color_jitter_strength = color_jitter_strength
        self.color_jitter_probability = color_jitter_probability
        self.blur = blur
        self.sigma_draw = sigma_draw

    def draw_params(
            self,
            generator: Optional[torch.Generator] = None) -> StrongAugParams:
        """This iteration's draws (``sigma`` only with ``sigma_draw='batch'``)."""
        per_batch = self.sigma_draw == 'batch'
        draws = torch.rand(3 if per_batch else 2, generator=generator).tolist()
        sigma = None
        if per_batch:
            sigma = SIGMA_LOW + (SIGMA_HIGH - SIGMA_LOW) * draws[2]
        return StrongAugParams(color_jitter=draws[0],
                               blur=draws[1] if self.blur else 0.0,
                               sigma=sigma)

    def __call__(self,
                 img: torch.Tensor,
                 img_norm_cfg: Mapping[str, Any],
                 params: StrongAugParams,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Augmented copy of ``img`` ``[B, 3, H, W]`` (per-image sigmas from
        ``generator``, default torch's global one)."""
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError(f'strong_aug.py: img must be [B, 3, H, W], got '
                             f'{tuple(img.shape)}')
        if params.color_jitter > self.color_jitter_probability:
            img = self.color_jitter(img, img_norm_cfg)
        if params.blur > 0.5:
            sigma = params.sigma
            if sigma is None:
                sigma = self.draw_sigmas(img.shape[0], generator)
            img = self.gaussian_blur(img, sigma)
        return img

    @staticmethod
    def draw_sigmas(batch: int,
                    generator: Optional[torch.Generator] = None
                    ) -> torch.Tensor:
        """One blur sigma per image, ``U(0.15, 1.15)``, float32 ``[B]``."""
        draws = torch.rand(batch, generator=generator)
        return SIGMA_LOW + (SIGMA_HIGH - SIGMA_LOW) * draws

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
    def gaussian_blur(img: torch.Tensor,
                      sigma: Union[float, torch.Tensor]) -> torch.Tensor:
        """Blur with the same sigma along y and x: one number for the batch,
        or one per image (``[B]``); kernel size :func:`blur_kernel_size`."""
        kernel = (blur_kernel_size(img.shape[2]),
                  blur_kernel_size(img.shape[3]))
        if not torch.is_tensor(sigma):
            return kornia.filters.gaussian_blur2d(img, kernel,
                                                  (sigma, sigma))
        sigmas = sigma.to(img.device, img.dtype).view(-1, 1).expand(-1, 2)
        return kornia.filters.gaussian_blur2d(img, kernel, sigmas)
