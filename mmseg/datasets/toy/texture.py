"""Rendering pieces shared by day and night: noise, textured albedo and BGR conversion."""
import cv2
import numpy as np

from .canvas import Canvas
from .classes import BUILDING, HEIGHT, IGNORE_INDEX, NUM_CLASSES, TERRAIN, VEGETATION, WIDTH

# Texture amplitudes per label (rows 0..18, row 19 = ignore): fine grain, blotches, broad shading.
_TEXTURE = np.array([
    (0.07, 0.06, 0.08), (0.06, 0.05, 0.08), (0.06, 0.04, 0.08), (0.08, 0.08, 0.08),
    (0.06, 0.05, 0.05), (0.04, 0.04, 0.05), (0.04, 0.03, 0.03), (0.02, 0.02, 0.03),
    (0.30, 0.22, 0.15), (0.16, 0.16, 0.12), (0.00, 0.00, 0.00), (0.05, 0.05, 0.04),
    (0.05, 0.05, 0.04), (0.03, 0.03, 0.05), (0.03, 0.04, 0.05), (0.02, 0.03, 0.05),
    (0.02, 0.03, 0.05), (0.05, 0.04, 0.04), (0.05, 0.04, 0.04), (0.02, 0.02, 0.04)],
    dtype=np.float32)
# Extra per-channel colour blotches (hue variation) for natural materials.
_HUE_VARIATION = np.zeros((20, 3), np.float32)
_HUE_VARIATION[VEGETATION] = (0.25, 0.10, 0.20)
_HUE_VARIATION[TERRAIN] = (0.15, 0.08, 0.15)
_HUE_VARIATION[BUILDING] = (0.02, 0.02, 0.03)


def _noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    small = rng.standard_normal((max(HEIGHT // cells, 2), max(WIDTH // cells, 2)), np.float32)
    return cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)


def _textured_albedo(c: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Albedo with per-class grain, blotches and colour variation (sRGB, 0..1)."""
    index = np.where(c.label == IGNORE_INDEX, NUM_CLASSES, c.label).astype(np.intp)
    amp = _TEXTURE[index]
    fine = rng.standard_normal((HEIGHT, WIDTH), np.float32)
    mid, low = _noise(rng, 6), _noise(rng, 32)
    gain = 1 + amp[..., 0] * fine + amp[..., 1] * mid + amp[..., 2] * low
    hue = _HUE_VARIATION[index] * np.stack([_noise(rng, 4), mid, -_noise(rng, 10)], -1)
    return np.clip(c.paint[..., :3] * gain[..., None] * (1 + hue), 0, 1)


def _to_uint8_bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)[..., ::-1])
