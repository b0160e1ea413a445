"""Boxes ``(y1, y2, x1, x2)`` in pixels: random HR crops, scaling, cropping."""
from typing import Optional, Sequence, Tuple

import torch

Box = Tuple[int, int, int, int]


def random_crop_box(img_h: int, img_w: int, crop_size: Sequence[int],
                    divisible: int = 1,
                    generator: Optional[torch.Generator] = None) -> Box:
    """A random ``crop_size`` box, offsets multiples of ``divisible``.

    Offsets are ``randint(0, (margin + 1) // divisible) * divisible`` per
    axis (HRDA's rule); the whole image when it equals the crop size.
    """
    crop_h, crop_w = crop_size
    if crop_h <= 0 or crop_w <= 0:
        raise ValueError(f'invalid crop size {crop_size}')
    if (img_h, img_w) == (crop_h, crop_w):
        return 0, img_h, 0, img_w

    def offset(margin: int) -> int:
        choices = max((max(margin, 0) + 1) // divisible, 1)
        return int(torch.randint(choices, (1, ), generator=generator)) \
            * divisible

    y1, x1 = offset(img_h - crop_h), offset(img_w - crop_w)
    return y1, y1 + crop_h, x1, x1 + crop_w


def scale_box(box: Sequence[int], divisor: float) -> Box:
    """Box coordinates divided by ``divisor`` (truncated to int)."""
    return tuple(int(c / divisor) for c in box)  # type: ignore[return-value]


def crop(x: torch.Tensor, box: Sequence[int]) -> torch.Tensor:
    """Crop the last two dims of a 2-D, 3-D or 4-D tensor to ``box``."""
    if x.dim() not in (2, 3, 4):
        raise ValueError(f'cannot crop a {x.dim()}-D tensor')
    y1, y2, x1, x2 = box
    return x[..., y1:y2, x1:x2]
