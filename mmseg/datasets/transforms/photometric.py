"""Photometric distortion of a BGR uint8 image (mmseg 0.x order)."""
from typing import Sequence

import cv2
import numpy as np

from mmseg.registry import TRANSFORMS


def _affine(img: np.ndarray, alpha: float = 1., beta: float = 0.):
    out = img.astype(np.float32) * alpha + beta
    return np.clip(out, 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class PhotoMetricDistortion:
    """Random brightness, contrast (before or after), saturation and hue.

    Each step happens with probability 1/2; every draw comes from
    ``results['rng']``. The input array is never modified in place.
    """

    def __init__(self, brightness_delta: int = 32,
                 contrast_range: Sequence[float] = (0.5, 1.5),
                 saturation_range: Sequence[float] = (0.5, 1.5),
                 hue_delta: int = 18) -> None:
        self.brightness_delta = brightness_delta
        self.contrast_range = tuple(contrast_range)
        self.saturation_range = tuple(saturation_range)
        self.hue_delta = hue_delta

    def _brightness(self, img, rng):
        if rng.integers(2):
            delta = rng.uniform(-self.brightness_delta, self.brightness_delta)
            img = _affine(img, beta=delta)
        return img

    def _contrast(self, img, rng):
        if rng.integers(2):
            img = _affine(img, alpha=rng.uniform(*self.contrast_range))
        return img

    def _saturation(self, img, rng):
        if rng.integers(2):
            hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            hsv[:, :, 1] = _affine(
                hsv[:, :, 1], alpha=rng.uniform(*self.saturation_range))
            img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        return img

    def _hue(self, img, rng):
        if rng.integers(2):
            hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            shift = int(rng.integers(-self.hue_delta, self.hue_delta))
            hsv[:, :, 0] = (hsv[:, :, 0].astype(int) + shift) % 180
            img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        return img

    def __call__(self, results: dict) -> dict:
        rng = results['rng']
        img = np.ascontiguousarray(results['img'])
        img = self._brightness(img, rng)
        contrast_first = bool(rng.integers(2))
        if contrast_first:
            img = self._contrast(img, rng)
        img = self._hue(self._saturation(img, rng), rng)
        if not contrast_first:
            img = self._contrast(img, rng)
        results['img'] = img
        return results
