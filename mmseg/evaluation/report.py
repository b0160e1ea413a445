"""Evaluation results as a JSON file and figures (``tools/test.py --out
--plot``).

The JSON holds exactly what the printed tables show::

    {"config": ..., "checkpoint": ..., "network": "student",
     "data": "data.test", "split": "val",
     "summary": {"aAcc": 71.2, "mIoU": 8.68, "mAcc": 14.1, ...},
     "per_class": {"road": {"IoU": 80.1, "Acc": 95.3}, ...}}

in percent with 2 decimals; a class without pixels is ``null`` (NaN in the
table).
"""
import json
import math
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def results_dict(metrics: Mapping[str, float], class_names: Sequence[str],
                 context: Optional[Mapping[str, Any]] = None
                 ) -> Dict[str, Any]:
    """``metrics`` of :class:`IoUMetric` split into the summary row and the
    per-class rows of its tables, after the ``context`` entries."""
    per_class_keys = {f'{kind}.{name}' for name in class_names
                      for kind in ('IoU', 'Acc')}
    out: Dict[str, Any] = dict(context or {})
    out['summary'] = {k: _json_value(v) for k, v in metrics.items()
                      if k not in per_class_keys}
    out['per_class'] = {
        name: {kind: _json_value(metrics.get(f'{kind}.{name}', math.nan))
               for kind in ('IoU', 'Acc')}
        for name in class_names
    }
    return out


def write_json(data: Mapping[str, Any], path: str) -> str:
    """Write ``data`` to ``path`` via a temporary file (an existing file is
    replaced only by a complete one). Returns ``path``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write('\n')
    os.replace(tmp, path)
    return path


def write_evaluation_outputs(metrics: Mapping[str, float],
                             class_names: Sequence[str],
                             confusion: Optional[np.ndarray] = None,
                             out: Optional[str] = None,
                             plot_dir: Optional[str] = None,
                             context: Optional[Mapping[str, Any]] = None
                             ) -> List[str]:
    """The ``--out`` JSON and the ``--plot`` figures; returns the paths.

    Args:
        metrics: :meth:`IoUMetric.evaluate` output (percent).
        class_names: the metric's classes, in order.
        confusion: ``(C, C)`` pixel counts (``IoUMetric.confusion``) for the
            confusion matrix figure.
        out: JSON path, or None.
        plot_dir: folder for ``iou_per_class.png`` and
            ``confusion_matrix.png``, or None.
        context: config, checkpoint, network, data entries of the JSON; the
            network also titles the figures.
    """
    paths = []
    if out:
        paths.append(write_json(results_dict(metrics, class_names, context),
                                out))
    if plot_dir:
        from .plots import plot_evaluation
        title = ', '.join(str(v) for k, v in (context or {}).items()
                          if k in ('network', 'data', 'split'))
        paths += list(plot_evaluation(metrics, class_names, confusion,
                                      plot_dir, title).values())
    return paths
