"""The canvas a scene is painted on: label map plus appearance layers."""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .camera import Camera, _fixed
from .classes import HEIGHT, SKY, WIDTH
from .palette import Colour


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
