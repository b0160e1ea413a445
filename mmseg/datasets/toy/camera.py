"""Pinhole camera over a flat ground and the 3D / pixel shape helpers built on it."""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np


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


def _ground_circle(x: float, z: float, radius: float, n: int = 14) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([x + radius * np.cos(a), np.zeros(n), z + radius * np.sin(a)], 1)


def _local(anchor: np.ndarray, scale: float, uv: Sequence) -> np.ndarray:
    """Points given in metres (u right, v up) around a ground anchor pixel."""
    uv = np.asarray(uv, np.float64).reshape(-1, 2)
    return np.stack([anchor[0] + uv[:, 0] * scale, anchor[1] - uv[:, 1] * scale], 1)


def _box(u0: float, u1: float, v0: float, v1: float) -> List[Tuple[float, float]]:
    return [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]


def _fixed(px: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(px) * 8).astype(np.int32).reshape(-1, 1, 2)
