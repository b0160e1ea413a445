"""Daylight rendering: sun-lit albedo with cast shadows under a clear or overcast sky."""
import cv2
import numpy as np

from .canvas import Canvas
from .classes import HEIGHT, SKY, WIDTH
from .palette import _jitter
from .texture import _noise, _textured_albedo, _to_uint8_bgr


def _sky_day(c: Canvas, rng: np.random.Generator) -> np.ndarray:
    rows = np.clip(np.arange(HEIGHT, dtype=np.float32) / max(c.camera.horizon, 1), 0, 1)
    top = np.array(_jitter(rng, (0.30, 0.50, 0.85), 0.05), np.float32)
    bottom = np.array(_jitter(rng, (0.75, 0.82, 0.90), 0.03), np.float32)
    if rng.random() < 0.3:  # overcast
        top = bottom = np.array(_jitter(rng, (0.78, 0.79, 0.80), 0.05), np.float32)
    sky = top + (bottom - top) * rows[:, None, None] ** 0.7
    clouds = np.clip(_noise(rng, 24) * 0.6 + _noise(rng, 8) * 0.3 - rng.uniform(0, 0.6), 0, 1)
    return np.broadcast_to(sky, (HEIGHT, WIDTH, 3)) * (1 - clouds[..., None]) \
        + clouds[..., None] * 0.92


def render_day(c: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Daylight rendering as a BGR uint8 image."""
    linear = _textured_albedo(c, rng) ** 2.2
    sun = rng.uniform(0.85, 1.2) * np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 1.0)],
                                            np.float32)
    img = linear * (c.shade[..., None] * 0.8 + 0.2) * sun
    sky = c.label == SKY
    img[sky] = (_sky_day(c, rng) ** 2.2)[sky]
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.6) ** (1 / 2.2)
    img += rng.normal(0, 0.008, img.shape).astype(np.float32)
    return _to_uint8_bgr(img)
