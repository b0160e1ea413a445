"""One full scene: street, facades, cast shadow, objects and ignore regions on a canvas."""
from typing import Sequence

import cv2
import numpy as np

from .camera import _ground_quad
from .canvas import Canvas
from .classes import HEIGHT, IGNORE_INDEX, NUM_CLASSES, PERSON, WIDTH
from .palette import VEHICLE_COLOURS, _jitter, _pick
from .placement import _paint_objects, _sample_objects
from .street import _paint_background, _paint_facades, _sample_street


def _paint_ignore(c: Canvas, rng: np.random.Generator, force: Sequence[int]) -> None:
    """Ego-vehicle hood (Cityscapes 'ego vehicle': ignore) and thin ignore bands at object edges."""
    if rng.random() < 0.25 or IGNORE_INDEX in force:
        a = np.linspace(0, np.pi, 24)
        depth = rng.uniform(20, 45)
        hood = np.stack([WIDTH / 2 - WIDTH * 0.75 * np.cos(a),
                         HEIGHT - depth * np.sin(a) + 4], 1)
        c.fill(hood, IGNORE_INDEX, _jitter(rng, _pick(rng, VEHICLE_COLOURS), 0.03))
        c.fill(hood[6:18] * [1, 1] + [0, depth * 0.3], None, (0.55, 0.6, 0.68))
    if rng.random() < 0.2:
        things = (c.label >= PERSON) & (c.label < NUM_CLASSES)
        kernel = np.ones((3, 3), np.uint8)
        edge = cv2.dilate(c.label, kernel) != cv2.erode(c.label, kernel)
        c.label[edge & (cv2.dilate(things.astype(np.uint8), kernel) > 0)] = IGNORE_INDEX


def paint_scene(rng: np.random.Generator, force: Sequence[int] = ()) -> Canvas:
    """Sample a street layout and paint its labels and appearance layers.

    ``force`` lists class ids (and 255) that the scene must contain.
    """
    street = _sample_street(rng)
    canvas = Canvas(street.camera)
    _paint_background(canvas, street, rng, force)
    _paint_facades(canvas, street, rng, force)
    if rng.random() < 0.5:  # a building's shadow across the street
        side = -1 if rng.random() < 0.5 else 1
        x = street.facade(side)
        edge = -x * rng.uniform(0, 0.8)
        canvas.shadow(_ground_quad(min(x, edge), max(x, edge), 1.0, street.far),
                      rng.uniform(0.45, 0.65))
    _paint_objects(canvas, _sample_objects(street, rng, force))
    _paint_ignore(canvas, rng, force)
    return canvas
