"""Material colours (sRGB, 0..1) and the random colour helpers the painters draw them with."""
from typing import Sequence, Tuple

import numpy as np

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


def _jitter(rng: np.random.Generator, colour: Colour, amount: float = 0.08) -> Colour:
    c = np.asarray(colour) * rng.uniform(1 - amount * 2, 1 + amount * 2) \
        + rng.normal(0, amount / 2, 3)
    return tuple(np.clip(c, 0.02, 0.98))


def _pick(rng: np.random.Generator, options: Sequence) -> object:
    return options[int(rng.integers(len(options)))]
