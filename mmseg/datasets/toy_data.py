"""A deterministic synthetic day-to-night street-scene set in the real on-disk layouts.

``make_toy_dataset(out_dir, seed)`` paints procedural street scenes (perspective road, sidewalks,
facades with windows, vegetation, poles with signs and lights, people, riders and vehicles) with the
19 Cityscapes classes, renders them in daylight (labelled source, Cityscapes layout) or with a
nighttime camera model (unlabelled target plus labelled val, Dark Zurich layout, and a few labelled
night prompts), and writes the rare-class statistics files of the Cityscapes converter. The
same seed gives byte-identical files. ``ensure_toy_dataset`` generates the set once per folder.

Layout under ``out_dir``::

    cityscapes/leftImg8bit/{train,val}/<city>/<city>_000000_<NNNNNN>_leftImg8bit.png
    cityscapes/gtFine/{train,val}/<city>/<city>_000000_<NNNNNN>_gtFine_labelTrainIds.png
    cityscapes/gtFine/{train,val}/<city>/<city>_000000_<NNNNNN>_gtFine_labelIds.png
    cityscapes/{sample_class_stats,sample_class_stats_dict,samples_with_class}.json
    dark_zurich/rgb_anon/{train,val,test}/night/<SEQ>/<SEQ>_frame_<NNNNNN>_rgb_anon.png
    dark_zurich/gt/val/night/<SEQ>/<SEQ>_frame_<NNNNNN>_gt_labelTrainIds.png
    prompt/img/<name>.png, prompt/gt/<name>_labelTrainIds.png
    TOY_DATASET_COMPLETE.json   (written last; its presence means the set is complete)

Paths inside the statistics files are relative to the ``cityscapes`` folder.
"""
import json
import os
import os.path as osp
import shutil
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

HEIGHT, WIDTH = 256, 512
IGNORE_INDEX = 255
CLASS_NAMES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
               'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck',
               'bus', 'train', 'motorcycle', 'bicycle')
NUM_CLASSES = len(CLASS_NAMES)
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY = range(11)
PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(11, 19)
# Official Cityscapes trainId -> labelId table (255 -> 0, "unlabeled").
TRAIN_ID_TO_LABEL_ID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33)
MARKER_FILE = 'TOY_DATASET_COMPLETE.json'
FORMAT_VERSION = 1
DEFAULT_COUNTS = dict(num_source_train=48, num_source_val=8, num_target_train=48,
                      num_target_val=12, num_target_test=6, num_prompts=4)
SOURCE_CITIES = {'train': ('aachen', 'bremen', 'zurich'), 'val': ('frankfurt', 'lindau')}
TARGET_SEQUENCES = {'train': ('GOPR0351', 'GOPR0354', 'GOPR0356'), 'val': ('GOPR0356',),
                    'test': ('GOPR0355',)}
_SPLIT_CODES = {'source_train': 1, 'source_val': 2, 'target_train': 3, 'target_val': 4,
                'target_test': 5, 'prompt': 6}

Colour = Tuple[float, float, float]
BUILDING_COLOURS = ((0.72, 0.66, 0.56), (0.58, 0.36, 0.28), (0.60, 0.60, 0.62), (0.85, 0.80, 0.68),
                    (0.78, 0.70, 0.48), (0.45, 0.45, 0.48), (0.68, 0.55, 0.50))
VEHICLE_COLOURS = ((0.08, 0.08, 0.09), (0.85, 0.86, 0.88), (0.62, 0.64, 0.67), (0.65, 0.10, 0.10),
                   (0.15, 0.25, 0.55), (0.35, 0.36, 0.38), (0.20, 0.35, 0.25), (0.10, 0.12, 0.25))
BUS_COLOURS = ((0.85, 0.70, 0.10), (0.70, 0.12, 0.12), (0.15, 0.35, 0.70), (0.88, 0.88, 0.85),
               (0.20, 0.50, 0.30))
CLOTHES_COLOURS = ((0.10, 0.10, 0.12), (0.20, 0.25, 0.45), (0.55, 0.10, 0.12), (0.60, 0.58, 0.55),
                   (0.85, 0.85, 0.82), (0.30, 0.22, 0.15), (0.20, 0.40, 0.25), (0.75, 0.55, 0.20))
SKIN_COLOURS = ((0.85, 0.65, 0.52), (0.62, 0.45, 0.33), (0.40, 0.28, 0.20))
GLASS, TYRE = (0.13, 0.15, 0.18), (0.05, 0.05, 0.05)
SODIUM, LED, WARM_WINDOW = (1.0, 0.62, 0.28), (0.92, 0.95, 1.0), (1.0, 0.78, 0.45)

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


# ----------------------------------------------------------------------------------- camera
@dataclass
class Camera:
    """Pinhole camera over a flat ground plane (X right, Y up, Z forward, metres)."""
    horizon: float
    cx: float
    focal: float
    height: float

    def project(self, pts: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts, np.float64).reshape(-1, 3)
        z = np.maximum(pts[:, 2], 0.5)
        return np.stack([self.cx + self.focal * pts[:, 0] / z,
                         self.horizon + self.focal * (self.height - pts[:, 1]) / z], 1)

    def scale(self, z: float) -> float:
        return self.focal / max(z, 0.5)

    def ground(self, x: float, z: float) -> np.ndarray:
        return self.project([x, 0.0, z])[0]


def _ground_quad(x0: float, x1: float, z0: float, z1: float) -> np.ndarray:
    return np.array([[x0, 0, z0], [x1, 0, z0], [x1, 0, z1], [x0, 0, z1]], np.float64)


def _plane_quad(x: float, y0: float, y1: float, z0: float, z1: float) -> np.ndarray:
    return np.array([[x, y0, z0], [x, y0, z1], [x, y1, z1], [x, y1, z0]], np.float64)


def _local(anchor: np.ndarray, scale: float, uv: Sequence) -> np.ndarray:
    """Points given in metres (u right, v up) around a ground anchor pixel."""
    uv = np.asarray(uv, np.float64).reshape(-1, 2)
    return np.stack([anchor[0] + uv[:, 0] * scale, anchor[1] - uv[:, 1] * scale], 1)


def _box(u0: float, u1: float, v0: float, v1: float) -> List[Tuple[float, float]]:
    return [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]


def _fixed(px: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(px) * 8).astype(np.int32).reshape(-1, 1, 2)


# ----------------------------------------------------------------------------------- canvas
@dataclass
class Canvas:
    """Label map plus appearance layers painted back to front.

    ``paint`` holds RGB albedo (sRGB, 0..1) and an emission gain; ``shade`` the daylight cast
    shadows; ``pools`` the ground light pools that only the night renderer uses.
    """
    camera: Camera
    label: np.ndarray = field(default_factory=lambda: np.full((HEIGHT, WIDTH), SKY, np.uint8))
    paint: np.ndarray = field(default_factory=lambda: np.zeros((HEIGHT, WIDTH, 4), np.float32))
    shade: np.ndarray = field(default_factory=lambda: np.ones((HEIGHT, WIDTH), np.float32))
    pools: List[Tuple[np.ndarray, Colour]] = field(default_factory=list)

    def fill(self, px, cls: Optional[int], colour: Colour, emission: float = 0.0) -> None:
        """Fill polygon(s) given in pixels; ``cls=None`` changes the appearance only.

        Several polygons in one call must not overlap (OpenCV fills them even-odd).
        """
        polys = [_fixed(p) for p in (px if isinstance(px, list) else [px])]
        if cls is not None:
            cv2.fillPoly(self.label, polys, int(cls), cv2.LINE_8, 3)
        cv2.fillPoly(self.paint, polys, (*map(float, colour), float(emission)), cv2.LINE_8, 3)

    def fill3d(self, pts, cls: Optional[int], colour: Colour, emission: float = 0.0) -> None:
        self.fill(self.camera.project(pts), cls, colour, emission)

    def disc(self, centre, radius: float, cls: Optional[int], colour: Colour,
             emission: float = 0.0, thickness: int = -1) -> None:
        c = tuple(int(v) for v in np.round(np.asarray(centre) * 8))
        r = int(round(max(radius, 0.5) * 8))
        if cls is not None:
            cv2.circle(self.label, c, r, int(cls), thickness, cv2.LINE_8, 3)
        cv2.circle(self.paint, c, r, (*map(float, colour), float(emission)), thickness,
                   cv2.LINE_8, 3)

    def stroke(self, p0, p1, width: float, cls: Optional[int], colour: Colour) -> None:
        """A straight bar of ``width`` pixels (at least one) between two pixel points."""
        p0, p1 = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
        d = p1 - p0
        n = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-6) * max(width, 1.0) / 2
        self.fill(np.array([p0 + n, p1 + n, p1 - n, p0 - n]), cls, colour)

    def shadow(self, pts3d, factor: float) -> None:
        mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        cv2.fillPoly(mask, [_fixed(self.camera.project(pts3d))], 1, cv2.LINE_8, 3)
        self.shade[mask > 0] *= factor

    def pool(self, pts3d, colour: Colour, strength: float) -> None:
        self.pools.append((self.camera.project(pts3d), tuple(c * strength for c in colour)))


def _jitter(rng: np.random.Generator, colour: Colour, amount: float = 0.08) -> Colour:
    c = np.asarray(colour) * rng.uniform(1 - amount * 2, 1 + amount * 2) \
        + rng.normal(0, amount / 2, 3)
    return tuple(np.clip(c, 0.02, 0.98))


def _pick(rng: np.random.Generator, options: Sequence) -> object:
    return options[int(rng.integers(len(options)))]


def _ground_circle(x: float, z: float, radius: float, n: int = 14) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([x + radius * np.cos(a), np.zeros(n), z + radius * np.sin(a)], 1)


# ----------------------------------------------------------------------------------- scene
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
    if rng.random() < 0.35 or WALL in force:
        side = -1 if rng.random() < 0.5 else 1
        _wall(c, s, rng, side, rng.uniform(2, 8) if WALL in force else rng.uniform(2, 25))
    if rng.random() < 0.4 or FENCE in force:
        side = -1 if rng.random() < 0.5 else 1
        _fence(c, s, rng, side, rng.uniform(3, 8) if FENCE in force else rng.uniform(3, 30))
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


# ----------------------------------------------------------------------------------- objects
def _pole(c: Canvas, s: Street, rng, side: int, z: float, kind: str) -> None:
    cam = c.camera
    x = s.curb(side) + side * rng.uniform(0.3, 0.8)
    k, base = cam.scale(z), cam.ground(x, z)
    height = rng.uniform(3.0, 4.5) if kind in ('plain', 'sign') else rng.uniform(4.5, 8.5)
    metal = _jitter(rng, _pick(rng, ((0.42, 0.43, 0.45), (0.25, 0.27, 0.26), (0.55, 0.55, 0.5))))
    c.fill(_local(base, k, _box(-0.07, 0.07, 0, height)), POLE, metal)
    if kind == 'sign':
        _sign(c, rng, _local(base, k, [(0, height - 0.4)])[0], k)
        if rng.random() < 0.4:
            _sign(c, rng, _local(base, k, [(0, height - 1.15)])[0], k)
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
    r = k * rng.uniform(0.28, 0.4)
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
    c.fill(_local(top, k, _box(-0.17, 0.17, -0.95, 0)), LIGHT, _jitter(rng, housing, 0.04))
    if rng.random() < 0.2:  # seen from behind
        return
    on = int(rng.integers(3))
    for i, colour in enumerate(((0.95, 0.15, 0.1), (0.95, 0.7, 0.1), (0.2, 0.9, 0.45))):
        centre = _local(top, k, [(0, -0.18 - 0.29 * i)])[0]
        lit = i == on
        c.disc(centre, k * 0.1, None, colour if lit else tuple(v * 0.25 for v in colour),
               5.0 if lit else 0.0)


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
            c.disc(w, k * r, cls, (0.08, 0.08, 0.08), thickness=max(1, int(k * 0.05)))
    frame = _jitter(rng, _pick(rng, VEHICLE_COLOURS if motor else CLOTHES_COLOURS))
    if motor:
        c.fill(_local(base, k, [(-0.45 * d, 0.45), (0.45 * d, 0.4), (0.55 * d, 0.8),
                                (0.1 * d, 0.9), (-0.5 * d, 0.75)]), cls, frame)
        c.disc(_local(base, k, [(0.6 * d, 0.85)])[0], k * 0.08, None, (0.95, 0.95, 0.85), 5.0)
    else:
        seat, bar, crank = (_local(base, k, [uv])[0] for uv in
                            ((-0.15 * d, 0.9), (0.45 * d, 0.98), (0.0, r)))
        width = max(1.0, k * 0.04)
        for p0, p1 in ((wheels[0], crank), (crank, seat), (seat, bar), (crank, bar),
                       (seat, wheels[0]), (bar, wheels[1])):
            c.stroke(p0, p1, width, cls, frame)
    if rider:
        _person(c, rng, x, z, RIDER, seat=0.95 if motor else 0.9)


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


class _Placer:
    """Random placements on a street; ``near()`` is where forced objects go to stay visible."""

    def __init__(self, street: Street, rng: np.random.Generator) -> None:
        self.s, self.rng = street, rng

    def near(self) -> float:
        return self.rng.uniform(7, 13)

    def side(self) -> int:
        return -1 if self.rng.random() < 0.5 else 1

    def sidewalk_x(self, side: int) -> float:
        return self.s.curb(side) + side * self.rng.uniform(0.5, 1.8)

    def lane_x(self, oncoming: bool, margin: float) -> float:
        if oncoming:
            return -self.rng.uniform(1.2, max(self.s.road_left - margin, 1.3))
        return self.rng.uniform(1.0, max(self.s.road_right - margin, 1.1))


def _sample_street_furniture(p: _Placer, force: Sequence[int]) -> List[tuple]:
    rng, items = p.rng, []
    for cls, kind in ((POLE, 'plain'), (SIGN, 'sign'), (LIGHT, 'light')):
        if cls in force:
            z = p.near()
            items.append((z, _pole, (p.s, rng, p.side(), z, kind)))
    kinds = ('plain', 'sign', 'sign', 'light', 'light', 'lamp', 'lamp')
    for _ in range(int(rng.integers(2, 7))):
        z = rng.uniform(4, 60)
        items.append((z, _pole, (p.s, rng, p.side(), z, _pick(rng, kinds))))
    for _ in range(int(rng.integers(0, 4)) + (VEGETATION in force)):
        sd, z = p.side(), rng.uniform(5, 40)
        items.append((z, _tree, (rng, p.sidewalk_x(sd) + sd * 0.5, z, rng.uniform(5, 9))))
    return items


def _sample_people(p: _Placer, force: Sequence[int]) -> List[tuple]:
    rng, items = p.rng, []
    for i in range(int(rng.poisson(2.5)) + (PERSON in force)):
        on_road = rng.random() < 0.15
        x = rng.uniform(-p.s.road_left, p.s.road_right) if on_road else p.sidewalk_x(p.side())
        z = p.near() if i == 0 and PERSON in force else rng.uniform(4, 45)
        items.append((z, _person, (rng, x, z)))
    for cls, prob in ((MOTORCYCLE, 0.15), (BICYCLE, 0.25)):
        forced = cls in force or (cls == BICYCLE and RIDER in force)
        if not (rng.random() < prob or forced):
            continue
        z = p.near() if forced else rng.uniform(5, 40)
        ridden = rng.random() < (0.8 if cls == MOTORCYCLE else 0.6) or RIDER in force
        sd = p.side()
        x = p.s.curb(sd) - sd * rng.uniform(0.6, 1.5) if ridden else p.sidewalk_x(sd)
        items.append((z, _two_wheeler, (rng, x, z, cls, ridden)))
    return items


def _sample_vehicles(p: _Placer, force: Sequence[int]) -> List[tuple]:
    rng, items = p.rng, []
    for i in range(int(rng.integers(0, 6)) + (CAR in force)):
        facing = rng.random() < 0.4
        z = p.near() if i == 0 and CAR in force else rng.uniform(5, 70)
        items.append((z, _vehicle_end, (rng, p.lane_x(facing, 0.9), z, CAR, facing)))
    for _ in range(int(rng.integers(0, 4))):  # parked along the curb
        sd, z = p.side(), rng.uniform(3, 45)
        items.append((z + 2, _vehicle_side, (rng, p.s.curb(sd) - sd * 1.2, z, CAR)))
    for cls, prob in ((TRUCK, 0.2), (BUS, 0.15), (TRAIN, 0.1)):
        if not (rng.random() < prob or cls in force):
            continue
        z = p.near() if cls in force else rng.uniform(8, 50)
        if rng.random() < 0.6:
            facing = rng.random() < 0.5
            items.append((z, _vehicle_end, (rng, p.lane_x(facing, 1.3), z, cls, facing)))
        else:
            sd = p.side()
            items.append((z + 4, _vehicle_side, (rng, p.s.curb(sd) - sd * 1.4, z, cls)))
    return items


def _sample_objects(s: Street, rng: np.random.Generator, force: Sequence[int]) -> List[tuple]:
    """Depth-tagged paint calls ``(z, fn, args)`` for poles, trees, people and vehicles."""
    placer = _Placer(s, rng)
    return (_sample_street_furniture(placer, force) + _sample_people(placer, force)
            + _sample_vehicles(placer, force))


def _paint_objects(c: Canvas, items: List[tuple]) -> None:
    """Paint far to near; ties keep sampling order."""
    order = sorted(range(len(items)), key=lambda i: (-items[i][0], i))
    for i in order:
        _, fn, args = items[i]
        fn(c, *args)


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


# ----------------------------------------------------------------------------------- rendering
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


def _to_uint8_bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)[..., ::-1])


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
    return 0.8 * tight + 2.0 * wide


def render_night(c: Canvas, rng: np.random.Generator) -> np.ndarray:
    """Nighttime rendering (BGR uint8): dim bluish ambient light, lamps, glare and sensor noise."""
    albedo = _textured_albedo(c, rng)
    linear = albedo ** 2.2
    ambient = rng.uniform(0.015, 0.05) * np.array([0.7, 0.82, 1.2], np.float32)
    img = linear * (ambient + _light_pools(c))
    gain = c.paint[..., 3:4] * rng.uniform(0.8, 1.5)
    img += linear * gain + _glow(linear * np.maximum(gain - 2.5, 0))
    rows = np.clip(np.arange(HEIGHT, dtype=np.float32) / max(c.camera.horizon, 1), 0, 1)[:, None]
    pollution = np.array([0.035, 0.022, 0.012], np.float32) * rng.uniform(0.5, 1.5)
    sky = np.array([0.003, 0.004, 0.012], np.float32) + rows[..., None] ** 3 * pollution
    img = np.where((c.label == SKY)[..., None], sky + (img - linear * ambient), img)
    img *= rng.uniform(1.0, 2.5)  # auto exposure
    shot, read = rng.uniform(0.002, 0.006), rng.uniform(0.004, 0.008)
    noise_std = np.sqrt(shot * np.maximum(img, 0) + read ** 2)
    img += noise_std * rng.standard_normal(img.shape, np.float32)
    img = np.maximum(img, 0)
    img = (img / (1 + img)) ** (1 / 2.2) * 1.25  # highlight roll-off, then display gamma
    mean = img.mean()
    img = mean + rng.uniform(0.6, 0.8) * (img - mean)
    grey = img.mean(-1, keepdims=True)
    img = grey + rng.uniform(0.4, 0.7) * (img - grey)
    cast = (0.85, 0.95, 1.15) if rng.random() < 0.5 else (1.15, 0.97, 0.75)
    img = cv2.GaussianBlur(img.astype(np.float32) * np.array(cast, np.float32), (0, 0), 0.8)
    return _to_uint8_bgr(img)


# ----------------------------------------------------------------------------------- files
@dataclass(frozen=True)
class _Split:
    """One generated split: its file naming and how it is rendered."""
    key: str
    night: bool
    labelled: bool
    count: int
    label_ids: bool = False  # also write Cityscapes labelIds next to the trainIds


def _image_rng(seed: int, split: str, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _SPLIT_CODES[split], index, stream]))


def _source_paths(root: str, subset: str, index: int) -> Tuple[str, str]:
    cities = SOURCE_CITIES[subset]
    city = cities[index % len(cities)]
    stem = f'{city}_000000_{index // len(cities):06d}'
    return (osp.join(root, 'leftImg8bit', subset, city, f'{stem}_leftImg8bit.png'),
            osp.join(root, 'gtFine', subset, city, f'{stem}_gtFine_labelTrainIds.png'))


def _target_paths(root: str, subset: str, index: int) -> Tuple[str, str]:
    sequences = TARGET_SEQUENCES[subset]
    seq = sequences[index % len(sequences)]
    stem = f'{seq}_frame_{index // len(sequences):06d}'
    return (osp.join(root, 'rgb_anon', subset, 'night', seq, f'{stem}_rgb_anon.png'),
            osp.join(root, 'gt', subset, 'night', seq, f'{stem}_gt_labelTrainIds.png'))


def _prompt_paths(root: str, index: int) -> Tuple[str, str]:
    name = f'night_prompt_{index:04d}'
    return (osp.join(root, 'img', f'{name}.png'), osp.join(root, 'gt', f'{name}_labelTrainIds.png'))


def _write_png(path: str, img: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, img, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
        raise OSError(f'could not write {path}')


def train_ids_to_label_ids(label: np.ndarray) -> np.ndarray:
    """Map trainIds (0..18, 255) to Cityscapes labelIds (255 -> 0)."""
    table = np.zeros(256, np.uint8)
    table[:NUM_CLASSES] = TRAIN_ID_TO_LABEL_ID
    return table[label]


def _coverage_force(present: np.ndarray, index: int, count: int) -> List[int]:
    """Classes the remaining images of a split must add so that every class (and 255) appears."""
    missing = [int(i) for i in np.flatnonzero(~present)]
    remaining = count - index
    if not missing or remaining > len(missing):
        return []
    return missing[:int(np.ceil(len(missing) / remaining))] if remaining > 1 else missing


def _class_presence(label: np.ndarray) -> np.ndarray:
    """Boolean per class id 0..18 plus index 19 for the ignore value."""
    return np.bincount(np.minimum(label.ravel(), NUM_CLASSES), minlength=NUM_CLASSES + 1) > 0


def _paint_forced(seed: int, key: str, index: int, force: List[int]) -> Canvas:
    """Paint a scene; with forced classes, redraw (deterministically) until all of them show."""
    best, best_missing = None, None
    for attempt in range(8 if force else 1):
        canvas = paint_scene(_image_rng(seed, key, index, 2 * attempt), force)
        found = _class_presence(canvas.label)
        missing = sum(not found[min(f, NUM_CLASSES)] for f in force)
        if best is None or missing < best_missing:
            best, best_missing = canvas, missing
        if missing == 0:
            break
    return best


def _generate_split(seed: int, split: _Split, paths: Callable[[int], Tuple[str, str]],
                    ensure_coverage: bool = False) -> List[Tuple[str, np.ndarray]]:
    """Paint, render and write one split; returns (label path, label) of every image."""
    present = np.zeros(NUM_CLASSES + 1, bool)
    written = []
    for i in range(split.count):
        force = _coverage_force(present, i, split.count) if ensure_coverage else []
        force = [IGNORE_INDEX if f == NUM_CLASSES else f for f in force]
        canvas = _paint_forced(seed, split.key, i, force)
        render = render_night if split.night else render_day
        img_path, label_path = paths(i)
        _write_png(img_path, render(canvas, _image_rng(seed, split.key, i, 1)))
        label = canvas.label
        present |= _class_presence(label)
        if split.labelled:
            _write_png(label_path, label)
            written.append((label_path, label))
        if split.label_ids:
            _write_png(label_path.replace('_labelTrainIds.png', '_labelIds.png'),
                       train_ids_to_label_ids(label))
    return written


def class_stats(labels: Sequence[Tuple[str, np.ndarray]]) -> List[Dict]:
    """Per-file pixel counts of the classes present, as the Cityscapes converter writes them."""
    stats = []
    for path, label in labels:
        counts = np.bincount(label.ravel(), minlength=256)[:NUM_CLASSES]
        entry = {str(c): int(n) for c, n in enumerate(counts) if n > 0}
        entry['file'] = path
        stats.append(entry)
    return stats


def write_class_stats(out_dir: str, stats: List[Dict]) -> None:
    """Write sample_class_stats.json, sample_class_stats_dict.json and samples_with_class.json."""
    by_file = {e['file']: {k: v for k, v in e.items() if k != 'file'} for e in stats}
    with_class: Dict[str, list] = {}
    for file, counts in by_file.items():
        for cls, n in counts.items():
            with_class.setdefault(cls, []).append([file, n])
    for name, obj in (('sample_class_stats.json', stats),
                      ('sample_class_stats_dict.json', by_file),
                      ('samples_with_class.json', with_class)):
        with open(osp.join(out_dir, name), 'w') as f:
            json.dump(obj, f, indent=2)


def make_toy_dataset(out_dir: str, seed: int = 0,
                     num_source_train: int = DEFAULT_COUNTS['num_source_train'],
                     num_source_val: int = DEFAULT_COUNTS['num_source_val'],
                     num_target_train: int = DEFAULT_COUNTS['num_target_train'],
                     num_target_val: int = DEFAULT_COUNTS['num_target_val'],
                     num_target_test: int = DEFAULT_COUNTS['num_target_test'],
                     num_prompts: int = DEFAULT_COUNTS['num_prompts']) -> Dict[str, int]:
    """Write the toy set under ``out_dir`` and return the number of images per split.

    A previous toy set in ``out_dir`` (recognised by its marker file) is replaced; other folders
    are left alone. Every class and the ignore value appear in the source train split: its last
    images are made to contain whatever chance left out.
    """
    counts = dict(source_train=num_source_train, source_val=num_source_val,
                  target_train=num_target_train, target_val=num_target_val,
                  target_test=num_target_test, prompt=num_prompts)
    if any(n < 0 for n in counts.values()):
        raise ValueError(f'image counts must not be negative: {counts}')
    marker = osp.join(out_dir, MARKER_FILE)
    if osp.exists(marker):
        os.remove(marker)
        for sub in ('cityscapes', 'dark_zurich', 'prompt'):
            shutil.rmtree(osp.join(out_dir, sub), ignore_errors=True)
    city, dz, prompt = (osp.join(out_dir, sub) for sub in ('cityscapes', 'dark_zurich', 'prompt'))
    os.makedirs(city, exist_ok=True)
    train_split = _Split('source_train', False, True, num_source_train, label_ids=True)
    train_labels = _generate_split(seed, train_split, lambda i: _source_paths(city, 'train', i),
                                   ensure_coverage=True)
    _generate_split(seed, _Split('source_val', False, True, num_source_val, True),
                    lambda i: _source_paths(city, 'val', i))
    write_class_stats(city, class_stats([(osp.relpath(p, city), lab) for p, lab in train_labels]))
    for key, subset, labelled in (('target_train', 'train', False), ('target_val', 'val', True),
                                  ('target_test', 'test', False)):
        _generate_split(seed, _Split(key, True, labelled, counts[key]),
                        lambda i, s=subset: _target_paths(dz, s, i))
    _generate_split(seed, _Split('prompt', True, True, num_prompts),
                    lambda i: _prompt_paths(prompt, i))
    with open(marker, 'w') as f:
        json.dump(dict(seed=seed, version=FORMAT_VERSION, counts=counts), f, indent=2,
                  sort_keys=True)
    return counts


def ensure_toy_dataset(out_dir: str, seed: int = 0, **counts: int) -> Dict[str, int]:
    """Generate the toy set unless ``out_dir`` already holds a complete one; returns its counts.

    A fresh set is written into a temporary sibling folder and moved into place, so that processes
    racing to create it never see a half-written set.
    """
    marker = osp.join(out_dir, MARKER_FILE)
    if osp.exists(marker):
        with open(marker) as f:
            return json.load(f)['counts']
    if osp.isdir(out_dir):  # an interrupted earlier run: complete it in place
        return make_toy_dataset(out_dir, seed, **counts)
    tmp = f'{out_dir.rstrip(os.sep)}.tmp-{uuid.uuid4().hex[:8]}'
    try:
        result = make_toy_dataset(tmp, seed, **counts)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if not osp.exists(marker):
                raise
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
