"""Normalisation (BGR -> RGB, mean/std) and padding."""
from typing import Optional, Sequence

import cv2
import numpy as np

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class Normalize:
    """``(img[RGB if to_rgb] - mean) / std`` as float32."""

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 to_rgb: bool = True) -> None:
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        self.to_rgb = to_rgb

    def __call__(self, results: dict) -> dict:
        img = np.ascontiguousarray(results['img']).astype(np.float32)
        if self.to_rgb:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        results['img'] = (img - self.mean) / self.std
        results['img_norm_cfg'] = dict(
            mean=self.mean.copy(), std=self.std.copy(), to_rgb=self.to_rgb)
        return results


@TRANSFORMS.register_module()
class Pad:
    """Pad bottom/right to ``size = (h, w)`` or to a multiple of
    ``size_divisor``; seg fields are padded with ``seg_pad_val``."""

    def __init__(self, size: Optional[Sequence[int]] = None,
                 size_divisor: Optional[int] = None, pad_val: float = 0,
                 seg_pad_val: int = 255) -> None:
        if (size is None) == (size_divisor is None):
            raise ValueError('Pad needs exactly one of size, size_divisor')
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def _target_hw(self, h: int, w: int):
        if self.size is not None:
            if h > self.size[0] or w > self.size[1]:
                raise ValueError(f'cannot pad an image of {h}x{w} (h x w) '
                                 f'to the smaller size {self.size}')
            return self.size
        d = self.size_divisor
        return -(-h // d) * d, -(-w // d) * d

    @staticmethod
    def _pad(arr: np.ndarray, hw, value) -> np.ndarray:
        h, w = arr.shape[:2]
        widths = [(0, hw[0] - h), (0, hw[1] - w)] + [(0, 0)] * (arr.ndim - 2)
        return np.pad(arr, widths, mode='constant', constant_values=value)

    def __call__(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        hw = self._target_hw(h, w)
        results['img'] = self._pad(results['img'], hw, self.pad_val)
        for key in results.get('seg_fields', []):
            value = 0 if key == 'valid_pseudo_mask' else self.seg_pad_val
            results[key] = self._pad(results[key], hw, value)
        results['pad_shape'] = results['img'].shape
        return results
