"""Choosing the test split of a config (``tools/test.py --test-set``).

Convention of ``configs/_base_/datasets/*.py``: ``data.val`` is the split
evaluated during training, ``data.test`` the one ``tools/test.py`` evaluates
by default (the labelled val split, as in HRDA), and ``data.test_set`` the
real test split (labels usually hidden: predictions go to a server).
"""
import copy
from typing import Any


def select_test_split(cfg: Any) -> dict:
    """Return a copy of ``cfg.data.test_set``; a clear error names the key
    when the config has none."""
    data = cfg.get('data', None) if hasattr(cfg, 'get') else None
    test_set = data.get('test_set', None) if data is not None else None
    if test_set is None:
        raise KeyError('the config has no data.test_set (the dataset config '
                       'of the real test split) needed by --test-set')
    return copy.deepcopy(dict(test_set))
