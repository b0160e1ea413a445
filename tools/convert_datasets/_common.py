"""Shared pieces of the dataset converters: file search, a process pool
with a printed progress bar, the stats files (checked label conversion:
``_labels.py``)."""
import os
import os.path as osp
import sys
from multiprocessing import Pool
from typing import Callable, List, Sequence

import numpy as np
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.class_stats import (save_class_stats,  # noqa: E402,F401
                                        sample_stats)


def find_files(root: str, suffix: str,
               exclude_suffixes: Sequence[str] = ()) -> List[str]:
    """Sorted paths under ``root`` (recursive) ending with ``suffix`` but
    with none of ``exclude_suffixes``."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'folder not found: {root}')
    found = []
    for folder, _, names in os.walk(root, followlinks=True):
        found += [osp.join(folder, n) for n in names if n.endswith(suffix)
                  and not any(n.endswith(e) for e in exclude_suffixes)]
    return sorted(found)


def progress(done: int, total: int, title: str, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    sys.stdout.write(f'\r{title} [{"#" * filled}{"." * (width - filled)}] '
                     f'{done}/{total}')
    if done == total:
        sys.stdout.write('\n')
    sys.stdout.flush()


def run_parallel(func: Callable, items: Sequence, nproc: int,
                 title: str = '') -> list:
    """``[func(x) for x in items]`` on ``nproc`` processes, in order."""
    results = []
    total = len(items)
    progress(0, total, title)
    if nproc > 1 and total > 1:
        with Pool(nproc) as pool:
            for result in pool.imap(func, items, chunksize=8):
                results.append(result)
                progress(len(results), total, title)
    else:
        for item in items:
            results.append(func(item))
            progress(len(results), total, title)
    return results


def add_nproc(parser) -> None:
    parser.add_argument('--nproc', type=int, default=1,
                        help='number of worker processes')


def strip_suffix(name: str, suffix: str) -> str:
    return name[:len(name) - len(suffix)] if name.endswith(suffix) else name
