"""Where objects go: sampling depth-tagged paint calls and painting them far to near."""
from typing import List, Sequence

import numpy as np

from .canvas import Canvas
from .classes import (BICYCLE, BUS, CAR, LIGHT, MOTORCYCLE, PERSON, POLE, RIDER, SIGN, TRAIN,
                      TRUCK, VEGETATION)
from .furniture import _pole
from .palette import _pick
from .people import _person, _two_wheeler
from .street import Street, _tree
from .vehicles import _vehicle_end, _vehicle_side


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
    kinds = ('plain', 'sign', 'sign', 'light', 'light', 'light', 'lamp', 'lamp')
    for _ in range(int(rng.integers(3, 8))):
        z = rng.uniform(4, 35)
        items.append((z, _pole, (p.s, rng, p.side(), z, _pick(rng, kinds))))
    for _ in range(int(rng.integers(0, 4)) + (VEGETATION in force)):
        sd, z = p.side(), rng.uniform(5, 40)
        items.append((z, _tree, (rng, p.sidewalk_x(sd) + sd * 0.5, z, rng.uniform(5, 9))))
    return items


def _sample_people(p: _Placer, force: Sequence[int]) -> List[tuple]:
    rng, items = p.rng, []
    for i in range(int(rng.poisson(3.5)) + (PERSON in force)):
        on_road = rng.random() < 0.15
        x = rng.uniform(-p.s.road_left, p.s.road_right) if on_road else p.sidewalk_x(p.side())
        z = p.near() if i == 0 and PERSON in force else rng.uniform(4, 22)
        items.append((z, _person, (rng, x, z)))
    for cls, prob in ((MOTORCYCLE, 0.45), (BICYCLE, 0.55)):
        forced = cls in force or (cls == BICYCLE and RIDER in force)
        if not (rng.random() < prob or forced):
            continue
        z = p.near() if forced else rng.uniform(5, 18)
        ridden = rng.random() < (0.85 if cls == MOTORCYCLE else 0.75) or RIDER in force
        sd = p.side()
        x = p.s.curb(sd) - sd * rng.uniform(0.6, 1.5) if ridden else p.sidewalk_x(sd)
        items.append((z, _two_wheeler, (rng, x, z, cls, ridden)))
    return items


def _sample_vehicles(p: _Placer, force: Sequence[int]) -> List[tuple]:
    rng, items = p.rng, []
    for i in range(int(rng.integers(1, 6)) + (CAR in force)):
        facing = rng.random() < 0.4
        z = p.near() if i == 0 and CAR in force else rng.uniform(5, 45)
        items.append((z, _vehicle_end, (rng, p.lane_x(facing, 0.9), z, CAR, facing)))
    for _ in range(int(rng.integers(0, 4))):  # parked along the curb
        sd, z = p.side(), rng.uniform(3, 45)
        items.append((z + 2, _vehicle_side, (rng, p.s.curb(sd) - sd * 1.2, z, CAR)))
    for cls, prob in ((TRUCK, 0.25), (BUS, 0.25), (TRAIN, 0.15)):
        if not (rng.random() < prob or cls in force):
            continue
        z = p.near() if cls in force else rng.uniform(8, 35)
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
