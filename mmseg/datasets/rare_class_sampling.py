"""Rare class sampling (RCS, DAFormer): draw a class with probability
``softmax((1 - f_c) / T)`` of its pixel frequency ``f_c`` in the source, then
a source file holding more than ``min_pixels`` pixels of it.

Statistics are read once from ``sample_class_stats.json`` and
``samples_with_class.json`` (written by ``tools/convert_datasets``); no image
is decoded to decide what to draw.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np


def class_probabilities(sample_class_stats: Sequence[dict],
                        temperature: float) -> Tuple[List[int], np.ndarray]:
    """Classes present in the stats and their RCS probabilities."""
    totals: Dict[int, int] = {}
    for stats in sample_class_stats:
        for key, n in stats.items():
            if key != 'file':
                totals[int(key)] = totals.get(int(key), 0) + int(n)
    classes = sorted(totals)
    freq = np.array([totals[c] for c in classes], dtype=np.float64)
    freq = freq / freq.sum()
    logits = (1 - freq) / temperature
    probs = np.exp(logits - logits.max())
    return classes, probs / probs.sum()


class RareClassSampler:
    """Draws ``(class, dataset index)`` pairs for rare class sampling.

    Args:
        stats_dir: folder with the two stats files (the source data root).
        file_to_idx: source label basename -> dataset index.
        class_temp: temperature ``T`` (0.01).
        min_pixels: a file counts for a class above this many pixels.
        min_crop_ratio: a crop must hold more than
            ``min_pixels * min_crop_ratio`` pixels of the class (0 = off).
    """

    def __init__(self, stats_dir: str, file_to_idx: Dict[str, int],
                 class_temp: float = 0.01, min_pixels: int = 3000,
                 min_crop_ratio: float = 0.5) -> None:
        self.class_temp = class_temp
        self.min_pixels = min_pixels
        self.min_crop_ratio = min_crop_ratio
        stats = self._read_json(stats_dir, 'sample_class_stats.json')
        self.classes, self.probs = class_probabilities(stats, class_temp)
        with_class = self._read_json(stats_dir, 'samples_with_class.json')
        self.indices_with_class = {
            c: self._indices(c, with_class, file_to_idx, stats_dir)
            for c in self.classes}

    @staticmethod
    def _read_json(stats_dir: str, name: str):
        path = osp.join(stats_dir, name)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'rare class sampling needs {path}; write it with '
                'tools/convert_datasets/<dataset>.py')
        with open(path) as f:
            return json.load(f)

    def _indices(self, cls: int, with_class: dict,
                 file_to_idx: Dict[str, int], stats_dir: str) -> List[int]:
        indices = [file_to_idx[osp.basename(file)]
                   for file, n in with_class.get(str(cls), [])
                   if n > self.min_pixels
                   and osp.basename(file) in file_to_idx]
        if not indices:
            raise ValueError(
                f'rare class sampling: no source file of the dataset has '
                f'more than {self.min_pixels} pixels of class {cls} in '
                f'{osp.join(stats_dir, "samples_with_class.json")}')
        return indices

    @property
    def min_crop_pixels(self) -> float:
        return self.min_pixels * self.min_crop_ratio

    def draw(self, rng: np.random.Generator) -> Tuple[int, int]:
        """A class ``c ~ P`` and a uniformly chosen index holding it."""
        cls = self.classes[int(rng.choice(len(self.classes), p=self.probs))]
        candidates = self.indices_with_class[cls]
        return cls, candidates[int(rng.integers(len(candidates)))]
