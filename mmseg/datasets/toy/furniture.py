"""Street furniture painters: poles with signs, traffic lights and street lamps."""
import numpy as np

from .camera import _box, _ground_circle, _local
from .canvas import Canvas
from .classes import LIGHT, POLE, SIGN
from .palette import LED, SODIUM, _jitter, _pick
from .street import Street

# Street furniture is drawn about twice its real thickness so that poles, signs and traffic
# lights keep several pixels at the 256x256 training crops (Cityscapes' 1024x2048 images keep
# them at real size); measured with tools/toy_stats.py.
POLE_HALF_WIDTH = 0.13
SIGN_RADIUS = (0.45, 0.65)
LIGHT_HALF_WIDTH, LIGHT_HEIGHT = 0.4, 1.5


def _pole(c: Canvas, s: Street, rng, side: int, z: float, kind: str) -> None:
    cam = c.camera
    x = s.curb(side) + side * rng.uniform(0.3, 0.8)
    k, base = cam.scale(z), cam.ground(x, z)
    height = rng.uniform(3.0, 4.5) if kind in ('plain', 'sign') else rng.uniform(4.5, 8.5)
    metal = _jitter(rng, _pick(rng, ((0.42, 0.43, 0.45), (0.25, 0.27, 0.26), (0.55, 0.55, 0.5))))
    c.fill(_local(base, k, _box(-POLE_HALF_WIDTH, POLE_HALF_WIDTH, 0, height)), POLE, metal)
    if kind == 'sign':
        _sign(c, rng, _local(base, k, [(0, height - 0.4)])[0], k)
        if rng.random() < 0.4:
            _sign(c, rng, _local(base, k, [(0, height - 0.45 - 2.3 * SIGN_RADIUS[1])])[0], k)
    elif kind == 'light':
        reach = -side * rng.uniform(0, 4) if rng.random() < 0.5 else 0.0
        if reach:
            c.fill(_local(base, k, _box(min(0, reach), max(0, reach), height - 0.1, height)),
                   POLE, metal)
        _traffic_light(c, rng, _local(base, k, [(reach, height - 0.1)])[0], k)
    elif kind == 'lamp':
        reach = -side * rng.uniform(0.8, 2.0)
        c.fill(_local(base, k, _box(min(0, reach), max(0, reach), height - 0.1, height)),
               POLE, metal)
        colour = SODIUM if rng.random() < 0.6 else LED
        c.fill(_local(base, k, _box(reach - 0.3, reach + 0.3, height - 0.25, height - 0.05)),
               POLE, colour, 6.0)
        c.pool(_ground_circle(x + reach, z, rng.uniform(4, 8)), colour, rng.uniform(0.3, 0.7))


def _sign(c: Canvas, rng, centre: np.ndarray, k: float) -> None:
    r = k * rng.uniform(*SIGN_RADIUS)
    shape = int(rng.integers(5))
    if shape == 0:  # prohibition: red ring, white face
        c.disc(centre, r, SIGN, (0.75, 0.1, 0.1))
        c.disc(centre, r * 0.75, None, (0.9, 0.9, 0.88))
    elif shape == 1:  # mandatory: blue disc, white arrow
        c.disc(centre, r, SIGN, (0.1, 0.25, 0.65))
        c.fill(centre + np.array([[-0.2, 0.4], [0.2, 0.4], [0, -0.5]]) * r, None, (0.9, 0.9, 0.9))
    elif shape == 2:  # warning triangle
        tri = centre + np.array([[-1, 0.8], [1, 0.8], [0, -1]]) * r * 1.1
        c.fill(tri, SIGN, (0.78, 0.1, 0.1))
        c.fill(centre + (tri - centre) * 0.65, None, (0.92, 0.9, 0.86))
    elif shape == 3:  # priority diamond
        c.fill(centre + np.array([[0, -1], [1, 0], [0, 1], [-1, 0]]) * r, SIGN, (0.9, 0.9, 0.88))
        c.fill(centre + np.array([[0, -1], [1, 0], [0, 1], [-1, 0]]) * r * 0.6, None,
               (0.9, 0.75, 0.1))
    else:  # information panel
        colour = _pick(rng, ((0.1, 0.3, 0.65), (0.1, 0.45, 0.25), (0.9, 0.9, 0.88)))
        c.fill(centre + np.array(_box(-1.2, 1.2, -0.7, 0.7)) * r, SIGN, colour)
        c.fill(centre + np.array(_box(-0.8, 0.8, -0.15, 0.15)) * r, None,
               (0.9, 0.9, 0.9) if colour[0] < 0.5 else (0.1, 0.1, 0.1))


def _traffic_light(c: Canvas, rng, top: np.ndarray, k: float) -> None:
    housing = _pick(rng, ((0.1, 0.1, 0.1), (0.2, 0.22, 0.2), (0.7, 0.6, 0.15)))
    c.fill(_local(top, k, _box(-LIGHT_HALF_WIDTH, LIGHT_HALF_WIDTH, -LIGHT_HEIGHT, 0)), LIGHT,
           _jitter(rng, housing, 0.04))
    if rng.random() < 0.2:  # seen from behind
        return
    on = int(rng.integers(3))
    for i, colour in enumerate(((0.95, 0.15, 0.1), (0.95, 0.7, 0.1), (0.2, 0.9, 0.45))):
        centre = _local(top, k, [(0, -LIGHT_HEIGHT * (0.19 + 0.31 * i))])[0]
        lit = i == on
        c.disc(centre, k * LIGHT_HALF_WIDTH * 0.6, None, colour if lit else tuple(v * 0.25 for v in colour),
               5.0 if lit else 0.0)
