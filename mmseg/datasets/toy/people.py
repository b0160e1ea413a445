"""Painters of pedestrians, riders, bicycles and motorcycles."""
import numpy as np

from .camera import _box, _local
from .canvas import Canvas
from .classes import MOTORCYCLE, PERSON, RIDER
from .palette import CLOTHES_COLOURS, SKIN_COLOURS, TYRE, VEHICLE_COLOURS, _jitter, _pick


def _person(c: Canvas, rng, x: float, z: float, cls: int = PERSON, seat: float = 0.0) -> None:
    """A pedestrian standing at (x, z), or a rider seated ``seat`` metres above the ground."""
    cam, k = c.camera, c.camera.scale(z)
    base = cam.ground(x, z)
    h = rng.uniform(1.55, 1.92)
    top, hip = _pick(rng, CLOTHES_COLOURS), _pick(rng, CLOTHES_COLOURS)
    top, hip = _jitter(rng, top), _jitter(rng, hip)
    if seat:
        legs = [_box(-0.2, -0.05, seat - 0.55, seat + 0.1),
                _box(0.05, 0.2, seat - 0.55, seat + 0.1)]
        torso_v = seat + 0.05
    else:
        stride = rng.uniform(-0.12, 0.12)
        legs = [[(-0.19 + stride, 0), (-0.04 + stride, 0), (-0.02, 0.48 * h), (-0.17, 0.48 * h)],
                [(0.04 - stride, 0), (0.19 - stride, 0), (0.17, 0.48 * h), (0.02, 0.48 * h)]]
        torso_v = 0.47 * h
    for leg in legs:
        c.fill(_local(base, k, leg), cls, hip)
    chest = torso_v + 0.33 * h
    c.fill(_local(base, k, [(-0.21, torso_v), (0.21, torso_v), (0.23, chest), (-0.23, chest)]),
           cls, top)
    for side in (-1, 1):
        c.fill(_local(base, k, _box(side * 0.23, side * 0.31, torso_v + 0.02, chest)), cls,
               tuple(np.asarray(top) * 0.85))
    head = _local(base, k, [(0, chest + 0.12)])[0]
    c.disc(head, k * 0.11, cls, _jitter(rng, _pick(rng, SKIN_COLOURS), 0.04))
    if seat or rng.random() < 0.4:  # helmet, cap or hair
        cap = [(-0.12, chest + 0.13), (0.12, chest + 0.13), (0.09, chest + 0.25),
               (-0.09, chest + 0.25)]
        c.fill(_local(base, k, cap), cls, _jitter(rng, _pick(rng, CLOTHES_COLOURS)))


def _two_wheeler(c: Canvas, rng, x: float, z: float, cls: int, rider: bool) -> None:
    """A bicycle or motorcycle seen from the side, optionally ridden."""
    cam, k = c.camera, c.camera.scale(z)
    base = cam.ground(x, z)
    d = 1 if rng.random() < 0.5 else -1
    motor = cls == MOTORCYCLE
    r = 0.31 if motor else 0.34
    wheels = [_local(base, k, [(u, r)])[0] for u in (-0.55 * d, 0.55 * d)]
    for w in wheels:
        if motor:
            c.disc(w, k * r, cls, TYRE)
            c.disc(w, k * r * 0.55, None, (0.55, 0.55, 0.58))
        else:
            c.disc(w, k * r, cls, (0.08, 0.08, 0.08), thickness=max(2, int(k * 0.08)))
    frame = _jitter(rng, _pick(rng, VEHICLE_COLOURS if motor else CLOTHES_COLOURS))
    if motor:
        c.fill(_local(base, k, [(-0.45 * d, 0.45), (0.45 * d, 0.4), (0.55 * d, 0.8),
                                (0.1 * d, 0.9), (-0.5 * d, 0.75)]), cls, frame)
        c.disc(_local(base, k, [(0.6 * d, 0.85)])[0], k * 0.08, None, (0.95, 0.95, 0.85), 5.0)
    else:
        seat, bar, crank = (_local(base, k, [uv])[0] for uv in
                            ((-0.15 * d, 0.9), (0.45 * d, 0.98), (0.0, r)))
        width = max(2.0, k * 0.07)
        for p0, p1 in ((wheels[0], crank), (crank, seat), (seat, bar), (crank, bar),
                       (seat, wheels[0]), (bar, wheels[1])):
            c.stroke(p0, p1, width, cls, frame)
    if rider:
        _person(c, rng, x, z, RIDER, seat=0.95 if motor else 0.9)
