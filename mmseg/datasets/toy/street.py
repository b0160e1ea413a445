"""Street layout: sampled geometry, skyline, ground, road markings and facades."""
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .camera import Camera, _box, _ground_quad, _local, _plane_quad
from .canvas import Canvas
from .classes import (BUILDING, FENCE, HEIGHT, ROAD, SIDEWALK, TERRAIN, VEGETATION, WALL,
                      WIDTH)
from .palette import BUILDING_COLOURS, GLASS, WARM_WINDOW, _jitter, _pick


@dataclass
class Street:
    """The sampled street geometry an image is painted from."""
    camera: Camera
    road_left: float
    road_right: float
    walk_left: float
    walk_right: float
    far: float

    def curb(self, side: int) -> float:
        return -self.road_left if side < 0 else self.road_right

    def facade(self, side: int) -> float:
        return -(self.road_left + self.walk_left) if side < 0 \
            else self.road_right + self.walk_right


def _sample_street(rng: np.random.Generator) -> Street:
    cam = Camera(horizon=HEIGHT * rng.uniform(0.38, 0.48), cx=WIDTH / 2 + rng.uniform(-40, 40),
                 focal=565.0 * rng.uniform(0.9, 1.1), height=rng.uniform(1.1, 1.4))
    return Street(cam, rng.uniform(3.5, 7.5), rng.uniform(3.5, 7.5), rng.uniform(2.0, 5.0),
                  rng.uniform(2.0, 5.0), rng.uniform(140, 260))


def _paint_background(c: Canvas, s: Street, rng: np.random.Generator,
                      force: Sequence[int]) -> None:
    """Skyline at the far end, ground, sidewalks, road with markings and terrain strips."""
    xs = np.sort(rng.uniform(-s.far, s.far, 14))
    for x0, x1 in zip(np.r_[-3 * s.far, xs], np.r_[xs, 3 * s.far]):
        if rng.random() < 0.75:
            top = rng.uniform(8, 45)
            c.fill3d([[x0, 0, s.far], [x1, 0, s.far], [x1, top, s.far], [x0, top, s.far]],
                     BUILDING, _jitter(rng, (0.55, 0.55, 0.58), 0.12))
        else:
            centre = c.camera.project([(x0 + x1) / 2, 6, s.far])[0]
            c.disc(centre, c.camera.scale(s.far) * rng.uniform(5, 10), VEGETATION,
                   _jitter(rng, (0.22, 0.32, 0.18)))
    c.fill3d(_ground_quad(-400, 400, 1.0, s.far * 1.5), TERRAIN, _jitter(rng, (0.42, 0.45, 0.26)))
    walk = _jitter(rng, (0.58, 0.56, 0.53), 0.06)
    for side in (-1, 1):
        x0, x1 = sorted((s.curb(side), s.facade(side) + side * 3))
        c.fill3d(_ground_quad(x0, x1, 1.0, s.far), SIDEWALK, walk)
        tiles = [c.camera.project(_ground_quad(x0, x1, z, z + 0.06)) for z in np.arange(2, 40, 1.2)]
        c.fill(tiles, None, tuple(np.asarray(walk) * 0.82))
        c.fill3d(_plane_quad(s.curb(side), 0, 0.14, 1.0, s.far), SIDEWALK,
                 tuple(np.minimum(np.asarray(walk) * 1.2, 1)))
        if rng.random() < 0.45 or (TERRAIN in force and side > 0):
            z0 = rng.uniform(2, 12) if TERRAIN in force else rng.uniform(2, 30)
            xa = s.facade(side) - side * rng.uniform(0.8, 2.0)
            c.fill3d(_ground_quad(min(xa, s.facade(side)), max(xa, s.facade(side)),
                                  z0, z0 + rng.uniform(6, 40)), TERRAIN,
                     _jitter(rng, (0.45, 0.47, 0.25), 0.1))
    road = _jitter(rng, (0.36, 0.36, 0.37), 0.04)
    c.fill3d(_ground_quad(-s.road_left, s.road_right, 1.0, s.far), ROAD, road)
    for _ in range(int(rng.integers(0, 4))):
        x, z = rng.uniform(-s.road_left, s.road_right - 2), rng.uniform(4, 40)
        c.fill3d(_ground_quad(x, x + rng.uniform(1, 3), z, z + rng.uniform(1, 6)), None,
                 tuple(np.asarray(road) * rng.uniform(0.75, 0.9)))
    if rng.random() < 0.15:
        x = rng.uniform(-1.5, 1.5)
        c.fill3d(_ground_quad(x - 0.8, x + 0.8, rng.uniform(8, 20), s.far), TERRAIN,
                 _jitter(rng, (0.4, 0.46, 0.24)))
    _paint_markings(c, s, rng)


def _paint_markings(c: Canvas, s: Street, rng: np.random.Generator) -> None:
    white = (0.86, 0.86, 0.84) if rng.random() < 0.8 else (0.85, 0.75, 0.30)
    offset = rng.uniform(0, 9)
    dashes = [c.camera.project(_ground_quad(-0.08, 0.08, z, z + 3)) for z in
              np.arange(2 + offset, min(s.far, 90), 9)]
    c.fill(dashes, None, white)
    for side in (-1, 1):
        x = s.curb(side) - side * 0.4
        c.fill3d(_ground_quad(x - 0.07, x + 0.07, 1.0, s.far), None, white)
    if rng.random() < 0.25:
        z = rng.uniform(6, 25)
        stripes = [c.camera.project(_ground_quad(x, x + 0.5, z, z + 3)) for x in
                   np.arange(-s.road_left + 0.3, s.road_right - 0.5, 1.0)]
        c.fill(stripes, None, white)


def _paint_facades(c: Canvas, s: Street, rng: np.random.Generator,
                   force: Sequence[int]) -> None:
    for side in (-1, 1):
        x, z = s.facade(side), s.far * rng.uniform(0.5, 0.8)
        segments = []
        while z > 0.8:
            length = rng.uniform(8, 30)
            segments.append((max(z - length, 0.8), z))
            z -= length
        for z0, z1 in segments:  # far to near
            kind = rng.random()
            if kind < 0.72:
                _building(c, s, rng, side, x, z0, z1)
            elif kind < 0.9:
                _tree_row(c, rng, x + side * 1.5, z0, z1)
    if rng.random() < 0.5 or WALL in force:
        side = -1 if rng.random() < 0.5 else 1
        _wall(c, s, rng, side, rng.uniform(2, 8) if WALL in force else rng.uniform(2, 18))
    if rng.random() < 0.5 or FENCE in force:
        side = -1 if rng.random() < 0.5 else 1
        _fence(c, s, rng, side, rng.uniform(3, 8) if FENCE in force else rng.uniform(3, 20))
    if rng.random() < 0.2:
        side = -1 if rng.random() < 0.5 else 1
        x = s.facade(side) - side * 0.6
        z0 = rng.uniform(3, 20)
        c.fill3d(_plane_quad(x, 0, rng.uniform(0.8, 1.4), z0, z0 + rng.uniform(5, 20)),
                 VEGETATION, _jitter(rng, (0.18, 0.32, 0.14)))


def _building(c: Canvas, s: Street, rng, side: int, x: float, z0: float, z1: float) -> None:
    height = rng.uniform(6, 26)
    wall = _jitter(rng, _pick(rng, BUILDING_COLOURS), 0.07)
    c.fill3d(_plane_quad(x, 0, height, z0, z1), BUILDING, wall)
    c.fill3d(_plane_quad(x, height - 0.5, height, z0, z1), None,
             tuple(np.asarray(wall) * 0.75))
    floor, col = rng.uniform(2.8, 3.5), rng.uniform(2.0, 3.5)
    if c.camera.scale(z1) * min(floor, col) < 4:
        return
    zs = np.arange(z0 + col * 0.3, z1 - col * 0.6, col)
    ys = np.arange(rng.uniform(3.2, 4.2), height - 1.5, floor)
    cells = [(y, z) for y in ys for z in zs]
    lit_prob = rng.uniform(0.15, 0.45)
    lit = rng.random(len(cells)) < lit_prob
    ww, wh = col * rng.uniform(0.4, 0.6), floor * rng.uniform(0.4, 0.6)
    glass = _jitter(rng, GLASS, 0.05)
    for is_lit in (False, True):
        polys = [c.camera.project(_plane_quad(x, y, y + wh, z, z + ww))
                 for (y, z), on in zip(cells, lit) if on == is_lit]
        if polys:
            colour = _jitter(rng, WARM_WINDOW, 0.05) if is_lit else glass
            c.fill(polys, None, colour if is_lit else glass, 2.5 if is_lit else 0.0)
    if rng.random() < 0.5:  # shop front on the ground floor
        shop = c.camera.project(_plane_quad(x, 0.4, 2.6, z0 + 0.5, z1 - 0.5))
        c.fill(shop, None, _jitter(rng, (0.25, 0.27, 0.3)), 1.5 * (rng.random() < 0.6))


def _tree_row(c: Canvas, rng, x: float, z0: float, z1: float) -> None:
    for z in np.arange(z1, z0, -rng.uniform(3, 6)):
        _tree(c, rng, x + rng.uniform(-1, 1), z, rng.uniform(5, 12))


def _tree(c: Canvas, rng, x: float, z: float, height: float) -> None:
    cam, green = c.camera, _jitter(rng, (0.22, 0.36, 0.16), 0.1)
    k = cam.scale(z)
    trunk = _local(cam.ground(x, z), k, _box(-0.15, 0.15, 0, height * 0.55))
    c.fill(trunk, VEGETATION, _jitter(rng, (0.30, 0.24, 0.18)))
    for _ in range(int(rng.integers(4, 8))):
        centre = cam.project([x + rng.uniform(-1.5, 1.5), height * rng.uniform(0.55, 0.9), z])[0]
        c.disc(centre, k * rng.uniform(1.0, 2.2), VEGETATION,
               tuple(np.asarray(green) * rng.uniform(0.7, 1.15)))


def _wall(c: Canvas, s: Street, rng, side: int, z0: float) -> None:
    x = s.facade(side) - side * 0.3
    z1, height = z0 + rng.uniform(5, 25), rng.uniform(0.8, 2.5)
    colour = _jitter(rng, _pick(rng, ((0.66, 0.65, 0.62), (0.55, 0.48, 0.42), (0.75, 0.72, 0.65))))
    c.fill3d(_plane_quad(x, 0, height, z0, z1), WALL, colour)
    joints = [c.camera.project(_plane_quad(x, 0, height, z, z + 0.05))
              for z in np.arange(z0 + 1.5, z1, 1.5)]
    c.fill(joints, None, tuple(np.asarray(colour) * 0.7))
    c.fill3d(_plane_quad(x, height - 0.12, height, z0, z1), None, tuple(np.asarray(colour) * 1.1))


def _fence(c: Canvas, s: Street, rng, side: int, z0: float) -> None:
    x = s.curb(side) + side * rng.uniform(0.8, 1.0) * (s.walk_left if side < 0 else s.walk_right)
    z1, height = z0 + rng.uniform(5, 30), rng.uniform(0.9, 1.8)
    metal = _jitter(rng, _pick(rng, ((0.25, 0.28, 0.25), (0.5, 0.5, 0.52), (0.35, 0.25, 0.15))))
    c.fill3d(_plane_quad(x, 0, height, z0, z1), FENCE, tuple(np.asarray(metal) * 0.45))
    step = rng.uniform(0.12, 0.25)
    bars = [c.camera.project(_plane_quad(x, 0, height, z, z + step * 0.45))
            for z in np.arange(z0, z1, step)]
    c.fill(bars, None, metal)
    c.fill3d(_plane_quad(x, height - 0.08, height, z0, z1), None, metal)
