"""Rare class sampling (RCS, DAFormer): draw a class with probability
``softmax((1 - f_c) / T)`` of its pixel frequency ``f_c`` in the source, then
a source file holding more than ``min_pixels`` pixels of it.

Statistics are read once from ``sample_class_stats.json`` and
``samples_with_class.json`` (written by ``tools/convert_datasets``); no image
is decoded to decide what to draw. Stats files are matched to the dataset's
labels by file name (``/`` or ``\\`` separators); stats that list no class
or none of the dataset's files raise :class:`ClassStatsError`.
"""
import json
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from .class_stats import ClassStatsError, class_pixel_total, stats_file_key

STATS_FILE = 'sample_class_stats.json'
WITH_CLASS_FILE = 'samples_with_class.json'
# Below this share of eligible source images the sampler warns (DAFormer#60).
MIN_ELIGIBLE_SHARE = 0.1


def pixels_of(min_pixels: float, crop_pixels: Optional[int]) -> float:
    """``min_pixels`` in pixels: a value below 1 is a fraction of the
    training crop's ``crop_pixels`` (``h * w``).

    Raises:
        ClassStatsError: a fraction without a crop, or a negative value.
    """
    if min_pixels < 0:
        raise ClassStatsError(f'rare_class_sampling.min_pixels={min_pixels} '
                              'must be >= 0')
    if 0 < min_pixels < 1:
        if not crop_pixels:
            raise ClassStatsError(
                f'rare_class_sampling.min_pixels={min_pixels} is a fraction '
                'of the crop, but the source pipeline has no RandomCrop; '
                'give a pixel count')
        return min_pixels * crop_pixels
    return min_pixels


def class_probabilities(sample_class_stats: Sequence[dict],
                        temperature: float,
                        source: str = 'the class stats'
                        ) -> Tuple[List[int], np.ndarray]:
    """Classes present in the stats and their RCS probabilities.

    Raises:
        ClassStatsError: the stats hold no pixel of any class (``source``
            names them in the message).
    """
    if not all(isinstance(e, dict) for e in sample_class_stats):
        raise ClassStatsError(f'rare class sampling: {source} must be a list '
                              'of {"<class>": pixels, "file": path} dicts')
    if class_pixel_total(sample_class_stats) == 0:
        raise ClassStatsError(
            f'rare class sampling: {source} list no pixel of any class in '
            f'{len(sample_class_stats)} entries (every label was ignore/255?'
            '); re-run tools/convert_datasets/<dataset>.py on labels with '
            'valid ids')
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
        min_pixels: a file counts for a class above this many pixels (in
            its stats, i.e. at the label's resolution); a value below 1 is
            a fraction of ``crop_pixels`` (e.g. 0.01 = 1 % of the crop).
        min_crop_ratio: a crop must hold more than
            ``min_pixels * min_crop_ratio`` pixels of the class (0 = off).
        crop_pixels: ``h * w`` of the source training crop (for a
            fractional ``min_pixels``).

    Logs a warning naming ``rare_class_sampling.min_pixels`` when fewer than
    10 % of the dataset's labelled images hold any class above it.

    Raises:
        FileNotFoundError: a stats file is missing.
        ClassStatsError: a stats file is unreadable, lists no class, names
            none of the dataset's labels (message: both counts and an
            example of each side), or a class has no dataset file above
            ``min_pixels``.
    """

    def __init__(self, stats_dir: str, file_to_idx: Dict[str, int],
                 class_temp: float = 0.01, min_pixels: int = 3000,
                 min_crop_ratio: float = 0.5,
                 crop_pixels: Optional[int] = None) -> None:
        self.class_temp = class_temp
        self.min_pixels_setting = min_pixels
        self.min_pixels = pixels_of(min_pixels, crop_pixels)
        self.min_crop_ratio = min_crop_ratio
        stats = self._read_json(stats_dir, STATS_FILE, list)
        self.classes, self.probs = class_probabilities(
            stats, class_temp, osp.join(stats_dir, STATS_FILE))
        with_class = self._read_json(stats_dir, WITH_CLASS_FILE, dict)
        self._check_matches(with_class, file_to_idx,
                            osp.join(stats_dir, WITH_CLASS_FILE))
        self.indices_with_class = {
            c: self._indices(c, with_class, file_to_idx, stats_dir)
            for c in self.classes}
        self.eligible_share = len(set().union(
            *self.indices_with_class.values())) / len(file_to_idx)
        if self.eligible_share < MIN_ELIGIBLE_SHARE:
            print_log(
                f'rare_class_sampling.min_pixels={self.min_pixels_setting} '
                f'({self.min_pixels:.0f} pixels) leaves '
                f'{self.eligible_share:.1%} of the {len(file_to_idx)} source '
                'images eligible; rare class sampling draws from these '
                'alone. Lower it, or give a fraction of the crop (e.g. '
                'min_pixels=0.01)', logger='current', level=logging.WARNING)

    @staticmethod
    def _read_json(stats_dir: str, name: str, kind: type):
        path = osp.join(stats_dir, name)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'rare class sampling needs {path}; write it with '
                'tools/convert_datasets/<dataset>.py')
        try:
            with open(path) as f:
                data = json.load(f)
        except (ValueError, UnicodeDecodeError) as err:
            raise ClassStatsError(f'rare class sampling: {path} is not valid '
                                  f'JSON ({err})') from err
        if not isinstance(data, kind):
            raise ClassStatsError(
                f'rare class sampling: {path} holds a '
                f'{type(data).__name__}, expected a {kind.__name__}; write '
                'it with tools/convert_datasets/<dataset>.py')
        return data

    @staticmethod
    def _check_matches(with_class: dict, file_to_idx: Dict[str, int],
                       path: str) -> None:
        """Raise when no stats file is one of the dataset's labels."""
        listed = sorted({stats_file_key(f) for entries in with_class.values()
                         for f, _ in entries})
        if not file_to_idx:
            raise ClassStatsError('rare class sampling: the source dataset '
                                  'has no label files to draw from')
        if any(name in file_to_idx for name in listed):
            return
        raise ClassStatsError(
            f'rare class sampling: none of the {len(listed)} files in {path} '
            f'is one of the {len(file_to_idx)} source labels (compared by '
            f'file name), e.g. stats {listed[0] if listed else None!r} vs '
            f'dataset {sorted(file_to_idx)[0]!r}; re-run '
            'tools/convert_datasets/<dataset>.py on this data root or set '
            'rare_class_sampling.stats_dir to the stats of these labels')

    def _indices(self, cls: int, with_class: dict,
                 file_to_idx: Dict[str, int], stats_dir: str) -> List[int]:
        listed = [(stats_file_key(f), n)
                  for f, n in with_class.get(str(cls), [])]
        present = [n for name, n in listed if name in file_to_idx]
        indices = [file_to_idx[name] for name, n in listed
                   if n > self.min_pixels and name in file_to_idx]
        if not indices:
            raise ClassStatsError(
                f'rare class sampling: no source file of the dataset has '
                f'more than {self.min_pixels} pixels of class {cls} in '
                f'{osp.join(stats_dir, WITH_CLASS_FILE)} ({len(listed)} '
                f'files list the class, {len(present)} of them in the '
                f'dataset, the largest with {max(present, default=0)} '
                'pixels); lower rare_class_sampling.min_pixels (a value '
                'below 1 is a fraction of the crop) or check the stats '
                'belong to this dataset')
        return indices

    @property
    def min_crop_pixels(self) -> float:
        return self.min_pixels * self.min_crop_ratio

    def draw(self, rng: np.random.Generator) -> Tuple[int, int]:
        """A class ``c ~ P`` and a uniformly chosen index holding it."""
        cls = self.classes[int(rng.choice(len(self.classes), p=self.probs))]
        candidates = self.indices_with_class[cls]
        return cls, candidates[int(rng.integers(len(candidates)))]
