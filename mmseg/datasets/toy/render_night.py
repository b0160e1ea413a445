"""Nighttime rendering: dim ambient light, light pools, glare and a noisy sensor.

What changes from day, by class (the shift the nighttime literature describes, e.g. DNIS in
PIG/EGLP): the sky loses its colour and brightness most (a dark gradient with light
pollution near the horizon); traffic lights become glowing blobs on a black housing; signs are
retro-reflective (bright, washed-out faces); road, sidewalks and facades keep their layout
and texture under dim ambient light and lamp pools, with sensor noise, a colour cast and glare.
"""
import cv2
import numpy as np

from .camera import _fixed
from .canvas import Canvas
from .classes import HEIGHT, LIGHT, SIGN, SKY, WIDTH
from .texture import _textured_albedo, _to_uint8_bgr

# Night camera model (linear light): ambient illumination range, shot and read noise ranges
# and the strength of the wide glare veil. Set so that structures stay visible under the
# noise, as in real night images (measured: a model trained with labels on night reaches at
# least 0.8 of the day model's day mIoU; see README "Toy data").
AMBIENT = (0.04, 0.10)
SHOT_NOISE = (0.0005, 0.0015)
READ_NOISE = (0.001, 0.0025)
GLARE_VEIL = 0.8
SIGN_RETROREFLECTION = (0.6, 1.4)


def _light_pools(c: Canvas) -> np.ndarray:
    """Ground illumination from street lamps and headlights (linear RGB), blurred softly."""
    small = np.zeros((HEIGHT // 4, WIDTH // 4, 3), np.float32)
    for poly, colour in c.pools:
        layer = np.zeros_like(small)
        cv2.fillPoly(layer, [_fixed(poly / 4)], tuple(map(float, colour)), cv2.LINE_8, 3)
        small += layer
    small = cv2.GaussianBlur(small, (0, 0), 4)
    return cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)


def _glow(emission: np.ndarray) -> np.ndarray:
    """Halos of bright sources: a tight bloom plus a wide veil that bleeds over neighbours."""
    tight = cv2.GaussianBlur(emission, (0, 0), 2.5)
    small = cv2.resize(emission, (WIDTH // 4, HEIGHT // 4), interpolation=cv2.INTER_AREA)
    wide = cv2.resize(cv2.GaussianBlur(small, (0, 0), 4), (WIDTH, HEIGHT),
                      interpolation=cv2.INTER_LINEAR)
    return 0.8 * tight + GLARE_VEIL * wide


def render_night(c: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Nighttime rendering (BGR uint8): dim bluish ambient light, lamps, glare and sensor noise."""
    albedo = _textured_albedo(c, rng)
    linear = albedo ** 2.2
    ambient = rng.uniform(*AMBIENT) * np.array([0.7, 0.82, 1.2], np.float32)
    img = linear * (ambient + _light_pools(c))
    gain = c.paint[..., 3:4] * rng.uniform(0.8, 1.5)
    img += linear * gain + _glow(linear * np.maximum(gain - 2.5, 0))
    sign = (c.label == SIGN)[..., None]
    img += sign * linear * rng.uniform(*SIGN_RETROREFLECTION)
    housing = (c.label == LIGHT)[..., None] & (gain <= 0)
    img = np.where(housing, img * 0.3, img)  # unlit traffic-light housings vanish in the dark
    rows = np.clip(np.arange(HEIGHT, dtype=np.float32) / max(c.camera.horizon, 1), 0, 1)[:, None]
    pollution = np.array([0.05, 0.035, 0.02], np.float32) * rng.uniform(0.5, 1.5)
    sky = np.array([0.006, 0.008, 0.02], np.float32) + rows[..., None] ** 2 * pollution
    img = np.where((c.label == SKY)[..., None], sky + (img - linear * ambient), img)
    img *= rng.uniform(0.8, 1.6)  # auto exposure
    shot, read = rng.uniform(*SHOT_NOISE), rng.uniform(*READ_NOISE)
    noise_std = np.sqrt(shot * np.maximum(img, 0) + read ** 2)
    img += noise_std * rng.standard_normal(img.shape, np.float32)
    img = np.maximum(img, 0)
    img = (img / (1 + img)) ** (1 / 2.2) * 1.25  # highlight roll-off, then display gamma
    mean = img.mean()
    img = mean + rng.uniform(0.7, 0.9) * (img - mean)
    grey = img.mean(-1, keepdims=True)
    img = grey + rng.uniform(0.4, 0.7) * (img - grey)
    cast = (0.85, 0.95, 1.15) if rng.random() < 0.5 else (1.15, 0.97, 0.75)
    img = cv2.GaussianBlur(img.astype(np.float32) * np.array(cast, np.float32), (0, 0), 0.7)
    return _to_uint8_bgr(img)
