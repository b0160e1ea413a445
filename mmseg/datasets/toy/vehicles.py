"""Painters of cars, trucks, buses and trains, seen end-on or from the side."""
import numpy as np

from .camera import _box, _ground_quad, _local
from .canvas import Canvas
from .classes import BUS, CAR, TRAIN, TRUCK
from .palette import BUS_COLOURS, GLASS, TYRE, VEHICLE_COLOURS, _jitter, _pick


def _vehicle_end(c: Canvas, rng, x: float, z: float, cls: int, facing: bool) -> None:
    """A car, truck, bus or train seen from the front (``facing``) or from behind."""
    cam, k = c.camera, c.camera.scale(z)
    base = cam.ground(x, z)
    w, h = {CAR: (1.8, 1.45), TRUCK: (2.45, 3.4), BUS: (2.55, 3.1), TRAIN: (2.65, 3.6)}[cls]
    w, h = w * rng.uniform(0.95, 1.05), h * rng.uniform(0.9, 1.08)
    if cls == CAR:
        h = rng.uniform(1.35, 1.7)
    body = _jitter(rng, _pick(rng, BUS_COLOURS if cls in (BUS, TRAIN) else VEHICLE_COLOURS))
    c.shadow(_ground_quad(x - w / 2 - 0.1, x + w / 2 + 0.1, z - 0.3, z + 3.5), 0.45)
    half = w / 2
    for s_ in (-1, 1):  # wheels
        c.fill(_local(base, k, _box(s_ * half * 0.9, s_ * half * 0.66, 0, 0.38)), cls, TYRE)
    if cls == CAR:
        c.fill(_local(base, k, [(-half, 0.3), (half, 0.3), (half * 1.02, 0.62 * h),
                                (half * 0.85, 0.7 * h), (-half * 0.85, 0.7 * h),
                                (-half * 1.02, 0.62 * h)]), cls, body)
        c.fill(_local(base, k, [(-half * 0.86, 0.69 * h), (half * 0.86, 0.69 * h),
                                (half * 0.66, h), (-half * 0.66, h)]), cls, body)
        c.fill(_local(base, k, [(-half * 0.76, 0.71 * h), (half * 0.76, 0.71 * h),
                                (half * 0.6, 0.96 * h), (-half * 0.6, 0.96 * h)]), None,
               _jitter(rng, GLASS, 0.04))
        lamp_v = 0.5 * h
    else:
        c.fill(_local(base, k, _box(-half, half, 0.35, h)), cls, body)
        if facing or cls != TRUCK:
            glass_top = h * (0.85 if facing else 0.75)
            c.fill(_local(base, k, _box(-half * 0.88, half * 0.88, h * 0.42, glass_top)), None,
                   _jitter(rng, GLASS, 0.04))
        if cls == TRUCK and not facing:
            c.fill(_local(base, k, _box(-0.02, 0.02, 0.45, h * 0.97)), None,
                   tuple(np.asarray(body) * 0.6))
        if cls in (BUS, TRAIN) and facing:  # destination display
            c.fill(_local(base, k, _box(-half * 0.6, half * 0.6, h * 0.88, h * 0.96)), None,
                   (0.95, 0.6, 0.1), 2.0)
        if cls == TRAIN:  # pantograph
            top = _local(base, k, [(0, h)])[0]
            pan = _local(base, k, [(0.5, h + 1.0)])[0]
            c.stroke(top, pan, max(1.0, k * 0.05), cls, (0.2, 0.2, 0.2))
            c.stroke(pan, _local(base, k, [(-0.6, h + 1.3)])[0], max(1.0, k * 0.05), cls,
                     (0.2, 0.2, 0.2))
        lamp_v = 0.55
    c.fill(_local(base, k, _box(-half, half, 0.25, 0.42)), None, (0.1, 0.1, 0.1))
    c.fill(_local(base, k, _box(-0.25, 0.25, 0.42 if cls == CAR else 0.5,
                                0.55 if cls == CAR else 0.65)), None, (0.88, 0.88, 0.85))
    lamp = (0.97, 0.95, 0.85) if facing else (0.75, 0.05, 0.05)
    for s_ in (-1, 1):
        c.fill(_local(base, k, _box(s_ * half * 0.92, s_ * half * 0.65, lamp_v, lamp_v + 0.14)),
               None, lamp, 6.0 if facing else 2.0)
    if facing:
        c.pool(_ground_quad(x - 1.6, x + 1.6, max(z - 18, 2), z - 0.5), (1.0, 0.95, 0.85), 0.5)


def _vehicle_side(c: Canvas, rng, x: float, z: float, cls: int) -> None:
    """A car, bus or train seen from the side, along the plane x = const starting at depth z."""
    length, h = {CAR: (4.4, 1.45), TRUCK: (8.0, 3.4), BUS: (12.0, 3.1),
                 TRAIN: (rng.uniform(20, 40), 3.6)}[cls]
    body = _jitter(rng, _pick(rng, BUS_COLOURS if cls in (BUS, TRAIN) else VEHICLE_COLOURS))
    cam = c.camera

    def side(zy):
        zy = np.asarray(zy, np.float64)
        return cam.project(np.stack([np.full(len(zy), x), zy[:, 1], z + zy[:, 0]], 1))

    if cls == CAR:
        c.fill(side([(0, 0.3), (length, 0.3), (length, 0.85), (0.1, 0.9)]), cls, body)
        c.fill(side([(0.9, 0.85), (3.6, 0.85), (3.0, h), (1.4, h)]), cls, body)
        c.fill(side([(1.1, 0.9), (3.35, 0.9), (2.9, h - 0.07), (1.5, h - 0.07)]), None,
               _jitter(rng, GLASS, 0.04))
        axles = (0.8, length - 0.8)
    else:
        c.fill(side(_box(0, length, 0.35, h)), cls, body)
        windows = [side(_box(u, u + 1.1, h * 0.5, h * 0.85))
                   for u in np.arange(0.6, length - 1.2, 1.6)]
        c.fill(windows, None, _jitter(rng, GLASS, 0.04), 1.5 * (rng.random() < 0.7))
        axles = tuple(np.linspace(1.5, length - 1.5, 2 if length < 15 else 4))
    for a in axles:
        centre = side([(a, 0.35)])[0]
        c.disc(centre, cam.scale(z + a) * 0.35, cls, TYRE)
    c.shadow(_ground_quad(x - 0.9, x + 0.9, z, z + length), 0.5)
