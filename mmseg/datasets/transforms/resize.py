"""Resize with mmseg-0.x semantics (``img_scale``, ``keep_ratio``,
``ratio_range``)."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmseg.registry import TRANSFORMS


def rescale_size(width: int, height: int,
                 scale: Sequence[int]) -> Tuple[int, int]:
    """Size (w, h) after scaling by ``min(long/long, short/short)``."""
    factor = min(max(scale) / max(height, width),
                 min(scale) / min(height, width))
    return int(width * factor + 0.5), int(height * factor + 0.5)


@TRANSFORMS.register_module()
class Resize:
    """Resize the image (bilinear) and every seg field (nearest).

    Args:
        img_scale: target ``(w, h)``; with ``keep_ratio`` the image is scaled
            by ``min(long_target / long, short_target / short)``. ``None``
            with ``ratio_range`` uses the image's own size as the scale.
        keep_ratio: keep the aspect ratio (see above) or resize exactly.
        ratio_range: ``(min, max)``: the scale is multiplied by a ratio drawn
            uniformly from this range (from ``results['rng']``).
    """

    def __init__(self,
                 img_scale: Optional[Sequence[int]] = None,
                 keep_ratio: bool = True,
                 ratio_range: Optional[Sequence[float]] = None) -> None:
        if img_scale is None and ratio_range is None:
            raise ValueError('Resize needs img_scale or ratio_range')
        self.img_scale = tuple(img_scale) if img_scale is not None else None
        self.keep_ratio = keep_ratio
        self.ratio_range = tuple(ratio_range) if ratio_range else None

    def _target_scale(self, results: dict) -> Tuple[int, int]:
        h, w = results['img'].shape[:2]
        scale = self.img_scale if self.img_scale is not None else (w, h)
        if self.ratio_range is None:
            return scale
        ratio = results['rng'].uniform(*self.ratio_range)
        return int(scale[0] * ratio), int(scale[1] * ratio)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        scale = self._target_scale(results)
        new_w, new_h = (rescale_size(w, h, scale) if self.keep_ratio
                        else (int(scale[0]), int(scale[1])))
        results['img'] = cv2.resize(
            img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        for key in results.get('seg_fields', []):
            results[key] = cv2.resize(
                results[key], (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        w_scale, h_scale = new_w / w, new_h / h
        results['scale'] = scale
        results['img_shape'] = results['img'].shape
        results['pad_shape'] = results['img'].shape
        results['scale_factor'] = np.array(
            [w_scale, h_scale, w_scale, h_scale], dtype=np.float32)
        results['keep_ratio'] = self.keep_ratio
        return results
