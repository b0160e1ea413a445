"""File helpers shared by the SeCo command-line tools."""
import os
import os.path as osp
import sys
from collections.abc import Mapping
from typing import Dict, Iterator, Tuple

import numpy as np
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmseg.seco.relabel import read_label  # noqa: E402

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


def index_images(img_dir: str) -> Dict[str, str]:
    """Base name without suffix -> path, for every image below ``img_dir``."""
    index: Dict[str, str] = {}
    for root, _, files in os.walk(img_dir):
        for name in files:
            stem, suffix = osp.splitext(name)
            if suffix.lower() in IMAGE_SUFFIXES:
                if stem in index:
                    raise ValueError(f'{img_dir}: image name {stem} occurs '
                                     f'twice ({index[stem]}, {name})')
                index[stem] = osp.join(root, name)
    return index


def load_rgb(path: str, size_hw: Tuple[int, int]) -> np.ndarray:
    """RGB uint8 image resized (bilinear) to ``size_hw`` when needed."""
    image = Image.open(path).convert('RGB')
    if image.size != (size_hw[1], size_hw[0]):
        image = image.resize((size_hw[1], size_hw[0]), Image.BILINEAR)
    return np.array(image)


class LabelFolder(Mapping):
    """Label PNGs of a folder as a lazily read ``name -> array`` mapping."""

    def __init__(self, label_dir: str) -> None:
        self.label_dir = label_dir
        self.names = sorted(n for n in os.listdir(label_dir)
                            if n.endswith('.png'))
        if not self.names:
            raise FileNotFoundError(f'no label PNGs in {label_dir}')

    def __getitem__(self, name: str) -> np.ndarray:
        return read_label(osp.join(self.label_dir, name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)
