"""The valid-pseudo-label mask with zeroed margins (HRDA ``plcrop='v2'``)."""
from typing import Sequence

import numpy as np

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AddValidPseudoMask:
    """Add ``valid_pseudo_mask``: ones of the loaded image's own shape with
    ``margins = [top, bottom, left, right]`` pixels set to 0.

    It is registered as a seg field, so Resize (nearest), RandomCrop,
    RandomFlip and Pad treat it like a label. Put it right after
    :class:`LoadImageFromFile` (datasets insert it given
    ``crop_pseudo_margins``).
    """

    def __init__(self, margins: Sequence[int]) -> None:
        if len(margins) != 4 or min(margins) < 0:
            raise ValueError('crop_pseudo_margins must be four non-negative '
                             f'ints [top, bottom, left, right], got {margins}')
        self.margins = [int(m) for m in margins]

    def __call__(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        top, bottom, left, right = self.margins
        mask = np.ones((h, w), dtype=np.uint8)
        mask[:top, :] = 0
        mask[:, :left] = 0
        if bottom:
            mask[max(h - bottom, 0):, :] = 0
        if right:
            mask[:, max(w - right, 0):] = 0
        results['valid_pseudo_mask'] = mask
        results.setdefault('seg_fields', [])
        if 'valid_pseudo_mask' not in results['seg_fields']:
            results['seg_fields'].append('valid_pseudo_mask')
        return results
