"""PMS (prompt mixture) and AMS (alternate mask) of PIG, with EGLP's options.

PMS: per sample, ``M`` is the left or the right part of the crop (uniform
choice) split vertically at column ``int(W * split)``;
``x_pm = M x_p + (1 - M) x_t`` and ``y_pm = M y_p + (1 - M) y_fused``. PIG
uses ``split = 0.5``; a ``(low, high)`` pair draws ``split ~ U(low, high)``
per sample (EGLP DMS).

AMS: the NFNet trains on the block-masked PMS image on some iterations:
odd iterations in PIG (``mode='parity'``), or with probability ``p``
(``mode='random'``). The mask is :class:`BlockMaskGenerator` (64 px blocks,
each kept with probability 0.3, masked pixels set to 0), as in PIG.
"""
from typing import Optional, Sequence, Tuple, Union

import torch

from mmseg.models.uda.parts.mic.masking import BlockMaskGenerator

Split = Union[float, Sequence[float]]


def _rand(shape: Sequence[int], generator: Optional[torch.Generator],
          device: torch.device) -> torch.Tensor:
    gen_device = generator.device if generator is not None else 'cpu'
    return torch.rand(tuple(shape), generator=generator,
                      device=gen_device).to(device)


def _as_label(label: torch.Tensor) -> torch.Tensor:
    return label if label.dim() == 4 else label.unsqueeze(1)


def prompt_masks(
    batch: int,
    height: int,
    width: int,
    generator: Optional[torch.Generator] = None,
    split: Split = 0.5,
    device: torch.device = torch.device('cpu')
) -> torch.Tensor:
    """Float ``[B, 1, H, W]``: 1 on the (left or right) prompt part."""
    draws = _rand((batch, 2), generator, device)
    if isinstance(split, (int, float)):
        ratios = torch.full((batch, ), float(split), device=device)
    else:
        low, high = split
        ratios = low + (high - low) * draws[:, 1]
    bounds = (width * ratios).long().view(batch, 1, 1, 1)
    cols = torch.arange(width, device=device).view(1, 1, 1, width)
    left = draws[:, 0].view(batch, 1, 1, 1) < 0.5
    masks = torch.where(left, cols < bounds, cols >= bounds)
    return masks.expand(batch, 1, height, width).float()


def prompt_mixture(
        prompt_img: torch.Tensor,
        prompt_label: torch.Tensor,
        tgt_img: torch.Tensor,
        fused_label: torch.Tensor,
        generator: Optional[torch.Generator] = None,
        split: Split = 0.5) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(img [B,3,H,W], label int64 [B,1,H,W], mask float [B,1,H,W])``."""
    b, _, h, w = tgt_img.shape
    mask = prompt_masks(b, h, w, generator, split, tgt_img.device)
    img = mask * prompt_img + (1 - mask) * tgt_img
    label = torch.where(mask.bool(), _as_label(prompt_label),
                        _as_label(fused_label)).long()
    return img, label, mask


class AlternateMask:
    """When the NFNet's PMS image is block-masked (see module doc)."""

    MODES = ('parity', 'random')

    def __init__(self,
                 mode: str = 'parity',
                 p: float = 0.5,
                 block_size: int = 64,
                 keep_prob: float = 0.3) -> None:
        if mode not in self.MODES:
            raise ValueError(f'prompt_mixing.py: AlternateMask mode must be '
                             f'one of {self.MODES}, got {mode!r}')
        self.mode, self.p = mode, p
        self.masker = BlockMaskGenerator(mask_ratio=1 - keep_prob,
                                         mask_block_size=block_size)

    def should_mask(self,
                    iteration: int,
                    generator: Optional[torch.Generator] = None) -> bool:
        if self.mode == 'parity':
            return iteration % 2 == 1
        return bool(_rand((1, ), generator, torch.device('cpu'))[0] < self.p)

    def __call__(self,
                 img: torch.Tensor,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Block-masked copy of ``img``."""
        return self.masker.mask_image(img, generator)
