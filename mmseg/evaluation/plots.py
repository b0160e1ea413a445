"""Figures of training curves, evaluation results and sweeps (PNG files).

Used by ``tools/analyze_logs.py`` (curves), ``tools/test.py --plot``
(per-class IoU, confusion matrix) and ``tools/collect_results.py --plot``
(a sweep's methods with their seed spread). Figures are built with
``matplotlib.figure.Figure`` (Agg canvas), so nothing depends on or changes
pyplot's global backend.
"""
import math
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure

# {run label: {key: (steps, values)}}
Curves = Mapping[str, Mapping[str, Tuple[Sequence[float], Sequence[float]]]]


def _save(fig: Figure, out: str) -> str:
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out, dpi=100, bbox_inches='tight')
    return out


EVAL_KEYS = ('aAcc', 'mIoU', 'mAcc')


def panel_title(key: str) -> str:
    """A logged scalar's panel title: evaluation metrics of a training log
    come from its validation loop, so they say ``(val)``."""
    if key in EVAL_KEYS or key.startswith(('IoU.', 'Acc.', 'mIoU')):
        return f'{key} (val)'
    return key


def plot_curves(curves: Curves, keys: Sequence[str], out: str,
                title: Optional[str] = None) -> str:
    """One panel per key (iteration on x), one line per run (the same
    colour in every panel); returns ``out``.

    Args:
        curves: ``{run label: {key: (iterations, values)}}``; a run without
            a key has no line in that panel.
        keys: the panels, in order (e.g. ``decode.loss_seg``, ``mIoU``).
        out: PNG path (folders are created).
    """
    cols = 1 if len(keys) == 1 else 2
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(6 * cols, 3.2 * rows))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        for run, (label, series) in enumerate(curves.items()):
            if key not in series:
                continue
            steps, values = series[key]
            ax.plot(steps, values, marker='o' if len(steps) < 20 else None,
                    markersize=3, label=label, color=f'C{run % 10}')
        ax.set_title(panel_title(key), fontsize=10)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if len(curves) > 1 or i == 0:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out)


def plot_class_iou(class_names: Sequence[str], iou: Sequence[float],
                   out: str, title: str = 'IoU per class',
                   miou: Optional[float] = None) -> str:
    """Bar chart of per-class IoU in percent; classes without pixels (NaN)
    are marked ``n/a``; a dashed line at ``miou`` (default: the mean of
    ``iou``). Returns ``out``."""
    values = np.asarray(iou, dtype=np.float64)
    fig = Figure(figsize=(max(6.0, 0.45 * len(class_names)), 4))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(class_names))
    ax.bar(x, np.nan_to_num(values), color='tab:blue')
    for xi, v in zip(x, values):
        ax.text(xi, 0 if np.isnan(v) else v, 'n/a' if np.isnan(v) else
                f'{v:.1f}', ha='center', va='bottom', fontsize=7)
    mean = miou
    if mean is None:
        mean = (np.nanmean(values) if np.any(~np.isnan(values)) else
                float('nan'))
    ax.axhline(mean, color='tab:red', linestyle='--', linewidth=1,
               label=f'mIoU {mean:.2f}')
    ax.set_xticks(x)
    ax.set_xticklabels(class_names, rotation=60, ha='right', fontsize=8)
    ax.set_ylabel('IoU (%)')
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8, loc='upper right')
    fig.tight_layout()
    return _save(fig, out)


def row_normalised(confusion: np.ndarray) -> np.ndarray:
    """Each row (ground-truth class) divided by its pixel count; rows of
    classes without pixels are NaN. Shape ``(C, C)`` as given."""
    confusion = np.asarray(confusion, dtype=np.float64)
    totals = confusion.sum(axis=1, keepdims=True)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(totals > 0, confusion / totals, np.nan)


def plot_confusion(confusion: np.ndarray, class_names: Sequence[str],
                   out: str, title: str = 'Confusion matrix') -> str:
    """Heatmap of the row-normalised confusion matrix (rows: ground truth,
    columns: prediction, colour: share of the row's pixels). Returns
    ``out``."""
    norm = row_normalised(confusion)
    n = len(class_names)
    size = max(5.0, 0.42 * n + 2)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(np.ma.masked_invalid(norm), cmap='Blues', vmin=0,
                      vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                 label='share of ground-truth pixels')
    for (r, c), v in np.ndenumerate(norm):
        if not np.isnan(v) and v >= 0.005:
            ax.text(c, r, f'{v:.2f}'[1:] if v < 1 else '1', ha='center',
                    va='center', fontsize=6,
                    color='white' if v > 0.5 else 'black')
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(class_names, rotation=60, ha='right', fontsize=8)
    ax.set_yticklabels(class_names, fontsize=8)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth')
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, out)


def plot_sweep(groups: Mapping[str, Mapping[str, float]], out: str,
               metric: str = 'mIoU') -> str:
    """Per method: the mean over seeds (bar), +-1 standard deviation (error
    bar) and each seed's value (dots). ``groups`` is ``{method: {seed:
    value}}``. Returns ``out``."""
    methods = list(groups)
    fig = Figure(figsize=(max(5.0, 1.2 * len(methods) + 2), 4.5))
    ax = fig.add_subplot(1, 1, 1)
    for x, method in enumerate(methods):
        values = np.asarray(list(groups[method].values()), dtype=np.float64)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        ax.bar(x, values.mean(), yerr=std, capsize=6, color='tab:blue',
               alpha=0.5)
        ax.scatter(np.full(len(values), x), values, color='black', s=14,
                   zorder=3)
        spread = f' ±{std:.2f}' if len(values) > 1 else ''
        ax.annotate(f'{values.mean():.2f}{spread}\n(n={len(values)})',
                    (x, max(values.max(), values.mean() + std)),
                    xytext=(0, 4), textcoords='offset points',
                    ha='center', va='bottom', fontsize=7)
    ax.set_xticks(range(len(methods)))
    ax.set_xticklabels(methods, rotation=30, ha='right', fontsize=8)
    ax.margins(y=0.15)
    ax.set_ylabel(f'{metric} (%)')
    ax.set_title(f'{metric} per method (bar: mean, line: ±1 std, '
                 'dots: seeds)', fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    return _save(fig, out)


def per_class_values(metrics: Mapping[str, float], class_names: Sequence[str],
                     prefix: str = 'IoU') -> List[float]:
    """``metrics['<prefix>.<class>']`` for each class (NaN if absent)."""
    return [float(metrics.get(f'{prefix}.{name}', float('nan')))
            for name in class_names]


def plot_evaluation(metrics: Mapping[str, float], class_names: Sequence[str],
                    confusion: Optional[np.ndarray], out_dir: str,
                    title: str = '') -> Dict[str, str]:
    """``iou_per_class.png`` and (with ``confusion``)
    ``confusion_matrix.png`` in ``out_dir``; returns ``{name: path}``."""
    suffix = f' ({title})' if title else ''
    paths = {'iou_per_class': plot_class_iou(
        class_names, per_class_values(metrics, class_names),
        osp.join(out_dir, 'iou_per_class.png'), 'IoU per class' + suffix,
        metrics.get('mIoU'))}
    if confusion is not None:
        paths['confusion_matrix'] = plot_confusion(
            confusion, class_names, osp.join(out_dir, 'confusion_matrix.png'),
            'Confusion matrix, row-normalised' + suffix)
    return paths
