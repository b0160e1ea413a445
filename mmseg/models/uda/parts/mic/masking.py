"""Random block masks for masked image consistency (MIC)."""
from typing import Any, Mapping, Optional

import torch
import torch.nn.functional as F


class BlockMaskGenerator:
    """Drops square blocks of an image with probability ``mask_ratio``.

    The image is divided into a ``round(H/b) x round(W/b)`` grid; a cell is
    kept iff ``U(0, 1) > mask_ratio``; the grid is upsampled (nearest) to
    ``H x W``. Masked pixels become 0, the mean colour of a normalised image.
    """

    def __init__(self,
                 mask_ratio: float = 0.7,
                 mask_block_size: int = 64) -> None:
        if not 0.0 <= mask_ratio <= 1.0:
            raise ValueError(f'masking.py: mask_ratio must be in [0, 1], '
                             f'got {mask_ratio}')
        if mask_block_size < 1:
            raise ValueError(f'masking.py: mask_block_size must be >= 1, '
                             f'got {mask_block_size}')
        self.mask_ratio = mask_ratio
        self.mask_block_size = mask_block_size

    @torch.no_grad()
    def generate_mask(
            self,
            img: torch.Tensor,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Keep mask ``[B, 1, H, W]`` (float, 1 = pixel kept)."""
        batch, _, height, width = img.shape
        grid = (batch, 1, round(height / self.mask_block_size),
                round(width / self.mask_block_size))
        device = generator.device if generator is not None else img.device
        draws = torch.rand(grid, generator=generator, device=device)
        keep = (draws > self.mask_ratio).to(img.device, img.dtype)
        return F.interpolate(keep, size=(height, width), mode='nearest')

    @torch.no_grad()
    def mask_image(
            self,
            img: torch.Tensor,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return img * self.generate_mask(img, generator)


def build_mask_generator(cfg: Mapping[str, Any]) -> BlockMaskGenerator:
    """Build from ``dict(type="block", mask_ratio=r, mask_block_size=b)``."""
    cfg = dict(cfg)
    kind = cfg.pop('type', None)
    if kind != 'block':
        raise ValueError(f"masking.py: mask_generator type must be 'block', "
                         f'got {kind!r}')
    return BlockMaskGenerator(**cfg)
