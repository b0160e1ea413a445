"""Connected components of label maps and the spatial purity of a label map."""
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

IGNORE_INDEX = 255


@dataclass
class Component:
    """One 8-connected region of one class in one image.

    ``mask`` covers the bounding box ``(x, y, w, h)`` only.
    """
    image: str
    label: int
    bbox: Tuple[int, int, int, int]
    mask: np.ndarray  # bool [h, w]

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def full_mask(self, shape: Tuple[int, int]) -> np.ndarray:
        """The component as a bool map of the whole image."""
        x, y, w, h = self.bbox
        full = np.zeros(shape, dtype=bool)
        full[y:y + h, x:x + w] = self.mask
        return full


def connected_components(label: np.ndarray,
                         image: str = '',
                         classes: Iterable[int] = None,
                         min_area: int = 1) -> List[Component]:
    """8-connected components of every class of ``label`` (255 skipped).

    Args:
        label: ``[H, W]`` integer label map.
        image: name stored in each component.
        classes: restrict to these classes (default: all present).
        min_area: drop components with fewer pixels.
    """
    label = np.asarray(label)
    present = [int(c) for c in np.unique(label) if c != IGNORE_INDEX]
    if classes is not None:
        wanted = set(int(c) for c in classes)
        present = [c for c in present if c in wanted]
    components = []
    for cls in present:
        count, ids, stats, _ = cv2.connectedComponentsWithStats(
            (label == cls).astype(np.uint8), connectivity=8)
        for index in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[index])
            if area < min_area:
                continue
            mask = ids[y:y + h, x:x + w] == index
            components.append(Component(image, cls, (x, y, w, h), mask))
    return components


def paint_components(shape: Tuple[int, int],
                     components: Sequence[Component],
                     labels: Sequence[int]) -> np.ndarray:
    """A uint8 label map: 255 everywhere, ``labels[i]`` on component ``i``."""
    out = np.full(shape, IGNORE_INDEX, dtype=np.uint8)
    for component, cls in zip(components, labels):
        x, y, w, h = component.bbox
        region = out[y:y + h, x:x + w]
        region[component.mask] = cls
    return out


def spatial_purity(label: np.ndarray, num_classes: int = 19,
                   radius: int = 8) -> np.ndarray:
    """Entropy of the label histogram in a ``(2r+1)^2`` window, per pixel.

    255 counts as one extra bin; windows are zero-padded at the border.
    Low values mean a homogeneous neighbourhood.
    """
    y = torch.from_numpy(np.asarray(label).astype(np.int64))
    y = torch.where((y >= 0) & (y < num_classes), y,
                    torch.full_like(y, num_classes))
    onehot = F.one_hot(y, num_classes + 1).permute(2, 0, 1)[None].float()
    size = 2 * radius + 1
    counts = F.avg_pool2d(onehot, size, stride=1, padding=radius,
                          count_include_pad=True) * size * size
    dist = counts / counts.sum(dim=1, keepdim=True)
    entropy = -(dist * torch.log(dist + 1e-6)).sum(dim=1)
    return entropy[0].numpy()
