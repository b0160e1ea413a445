"""Per-file class pixel statistics for rare class sampling.

Three JSON files are written beside a dataset (keys are strings)::

    sample_class_stats.json       [{"<class>": n, ..., "file": path}, ...]
    sample_class_stats_dict.json  {path: {"<class>": n, ...}}
    samples_with_class.json       {"<class>": [[path, n], ...]}

Only classes with ``n > 0`` appear. Paths are matched to dataset files by
file name (:func:`stats_file_key`), whichever separator wrote them.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np


class ClassStatsError(ValueError):
    """Class statistics that rare class sampling cannot use (unreadable,
    empty, or naming none of the dataset's files)."""


def stats_file_key(path: str) -> str:
    """File name of a stats path written with ``/`` or ``\\`` (Windows)
    separators: the key stats entries and dataset labels are matched by."""
    return path.replace('\\', '/').rsplit('/', 1)[-1]


def class_pixel_total(sample_class_stats: Sequence[dict]) -> int:
    """Pixels of all classes over all entries (0 = the stats list no
    class: every label was ignore)."""
    return sum(int(n) for entry in sample_class_stats
               for key, n in entry.items() if key != 'file')


def class_pixel_counts(label: np.ndarray,
                       num_classes: int = 19) -> Dict[str, int]:
    """``{"<class>": pixels}`` for the train ids ``0..num_classes-1``
    present in ``label``."""
    counts = np.bincount(label.ravel().astype(np.int64), minlength=256)
    return {str(c): int(counts[c]) for c in range(num_classes)
            if counts[c] > 0}


def sample_stats(label: np.ndarray, file: str,
                 num_classes: int = 19) -> dict:
    """One entry of ``sample_class_stats.json``."""
    stats: dict = class_pixel_counts(label, num_classes)
    stats['file'] = file
    return stats


def save_class_stats(out_dir: str, sample_class_stats: Sequence[dict]) -> None:
    """Write the three stats files (see the module docstring) to
    ``out_dir``.

    Raises:
        ClassStatsError: the entries hold no pixel of any class (rare class
            sampling could not use them); nothing is written.
    """
    entries = [dict(s) for s in sample_class_stats]
    if class_pixel_total(entries) == 0:
        raise ClassStatsError(
            f'refusing to write class stats to {out_dir}: the '
            f'{len(entries)} entries hold no pixel of any class')
    os.makedirs(out_dir, exist_ok=True)
    per_file: Dict[str, Dict[str, int]] = {}
    with_class: Dict[str, List[list]] = {}
    for entry in entries:
        counts = {k: v for k, v in entry.items() if k != 'file'}
        per_file[entry['file']] = counts
        for cls, n in counts.items():
            with_class.setdefault(cls, []).append([entry['file'], n])
    for name, data in (('sample_class_stats.json', entries),
                       ('sample_class_stats_dict.json', per_file),
                       ('samples_with_class.json', with_class)):
        with open(osp.join(out_dir, name), 'w') as f:
            json.dump(data, f, indent=2)
