"""The Cityscapes label table: label ids, train ids, names and colours.

Every dataset of the project uses the 19 Cityscapes train ids (255 = ignore).
The converters map label ids to train ids with :data:`ID_TO_TRAINID`; the
test-server writer maps back with :data:`TRAINID_TO_ID`.
"""
from typing import Dict, List, Optional, Tuple

import numpy as np

# (name, label id, train id, RGB colour), as in the official table.
LABELS: List[Tuple[str, int, int, Tuple[int, int, int]]] = [
    ('unlabeled', 0, 255, (0, 0, 0)),
    ('ego vehicle', 1, 255, (0, 0, 0)),
    ('rectification border', 2, 255, (0, 0, 0)),
    ('out of roi', 3, 255, (0, 0, 0)),
    ('static', 4, 255, (0, 0, 0)),
    ('dynamic', 5, 255, (111, 74, 0)),
    ('ground', 6, 255, (81, 0, 81)),
    ('road', 7, 0, (128, 64, 128)),
    ('sidewalk', 8, 1, (244, 35, 232)),
    ('parking', 9, 255, (250, 170, 160)),
    ('rail track', 10, 255, (230, 150, 140)),
    ('building', 11, 2, (70, 70, 70)),
    ('wall', 12, 3, (102, 102, 156)),
    ('fence', 13, 4, (190, 153, 153)),
    ('guard rail', 14, 255, (180, 165, 180)),
    ('bridge', 15, 255, (150, 100, 100)),
    ('tunnel', 16, 255, (150, 120, 90)),
    ('pole', 17, 5, (153, 153, 153)),
    ('polegroup', 18, 255, (153, 153, 153)),
    ('traffic light', 19, 6, (250, 170, 30)),
    ('traffic sign', 20, 7, (220, 220, 0)),
    ('vegetation', 21, 8, (107, 142, 35)),
    ('terrain', 22, 9, (152, 251, 152)),
    ('sky', 23, 10, (70, 130, 180)),
    ('person', 24, 11, (220, 20, 60)),
    ('rider', 25, 12, (255, 0, 0)),
    ('car', 26, 13, (0, 0, 142)),
    ('truck', 27, 14, (0, 0, 70)),
    ('bus', 28, 15, (0, 60, 100)),
    ('caravan', 29, 255, (0, 0, 90)),
    ('trailer', 30, 255, (0, 0, 110)),
    ('train', 31, 16, (0, 80, 100)),
    ('motorcycle', 32, 17, (0, 0, 230)),
    ('bicycle', 33, 18, (119, 11, 32)),
]

ID_TO_TRAINID: Dict[int, int] = {lid: tid for _, lid, tid, _ in LABELS}
# Train id -> label id; 255 goes to the first ignored label ('unlabeled').
TRAINID_TO_ID: Dict[int, int] = {}
for _, _lid, _tid, _ in LABELS:
    TRAINID_TO_ID.setdefault(_tid, _lid)

CLASSES: Tuple[str, ...] = tuple(
    name for name, _, tid, _ in sorted(LABELS, key=lambda r: r[2])
    if tid != 255)
PALETTE: List[List[int]] = [
    list(color) for _, _, tid, color in sorted(LABELS, key=lambda r: r[2])
    if tid != 255]
ID_PALETTE: List[List[int]] = [list(color) for *_, color in LABELS]


def id_to_trainid_lut(
        mapping: Optional[Dict[int, int]] = None) -> np.ndarray:
    """A 256-entry uint8 look-up table label id -> train id (others 255)."""
    lut = np.full(256, 255, dtype=np.uint8)
    for lid, tid in (mapping or ID_TO_TRAINID).items():
        lut[lid] = tid
    return lut


def trainid_to_id_lut() -> np.ndarray:
    """A 256-entry uint8 look-up table train id -> Cityscapes label id."""
    lut = np.zeros(256, dtype=np.uint8)
    for tid, lid in TRAINID_TO_ID.items():
        lut[tid] = lid
    return lut
