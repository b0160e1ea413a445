"""Dataset-level IoU / accuracy (mmseg 0.x ``mean_iou``) as an mmengine
metric.

Per image: pixels whose label is ``ignore_index`` are dropped; intersection,
prediction and label areas per class are histogrammed. The areas are summed
over the whole dataset (not averaged per image), then ``IoU_c = I_c / U_c``,
``Acc_c = I_c / Label_c``, ``aAcc = sum(I) / sum(Label)``. A class absent
from the evaluated labels is NaN (``n/a`` in the tables, ``null`` in JSON)
and left out of the means, even where it was predicted (HRDA#44: binary or
small class sets otherwise give NaN or a mean pulled down by classes the
val images lack); ``absent_class_iou='zero'`` keeps mmseg's rule (IoU 0 for
a predicted absent class, NaN only at zero union).
"""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmseg.datasets.cityscapes_labels import CLASSES
from mmseg.datasets.synthia import SYNTHIA_13_NAMES, SYNTHIA_16_NAMES
from mmseg.datasets.transforms.loading import read_label
from mmseg.registry import METRICS
from .table import format_table


def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    return x[0] if x.ndim == 3 and x.shape[0] == 1 else x


def _histogram(values: np.ndarray, num_classes: int) -> np.ndarray:
    values = values[(values >= 0) & (values < num_classes)]
    return np.bincount(values, minlength=num_classes)


def area_stats(pred: np.ndarray, label: np.ndarray, num_classes: int,
               ignore_index: int = 255) -> np.ndarray:
    """``[intersect, union, pred, label]`` areas per class, shape (4, C)."""
    keep = label != ignore_index
    pred = pred[keep].astype(np.int64)
    label = label[keep].astype(np.int64)
    inter = _histogram(pred[pred == label], num_classes)
    pred_area = _histogram(pred, num_classes)
    label_area = _histogram(label, num_classes)
    return np.stack([inter, pred_area + label_area - inter, pred_area,
                     label_area]).astype(np.float64)


def confusion_matrix(pred: np.ndarray, label: np.ndarray, num_classes: int,
                     ignore_index: int = 255) -> np.ndarray:
    """Pixel counts ``(C, C)``: row = label class, column = predicted class.

    Pixels labelled ``ignore_index`` (or outside ``0..C-1``) are left out;
    the diagonal equals the intersection row of :func:`area_stats`.
    """
    pred = pred.astype(np.int64)
    label = label.astype(np.int64)
    keep = ((label != ignore_index) & (label >= 0) & (label < num_classes) &
            (pred >= 0) & (pred < num_classes))
    index = label[keep] * num_classes + pred[keep]
    counts = np.bincount(index, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.float64)


def _percent(x: float) -> float:
    return round(float(x) * 100, 2)


def _cell(value: float) -> Any:
    """A table cell: ``n/a`` for NaN (a class without label pixels)."""
    return 'n/a' if isinstance(value, float) and np.isnan(value) else value


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.any(~np.isnan(x)) else float('nan')


@METRICS.register_module()
class IoUMetric(BaseMetric):
    """aAcc, mIoU, mAcc and per-class IoU/Acc in percent (2 decimals).

    ``process`` takes the model's predict outputs: dicts with
    ``pred_sem_seg`` (int64 ``[H, W]``) and ``gt_sem_seg``; without
    ``gt_sem_seg`` the label is read from ``img_metas['seg_map_path']``.

    Args:
        ignore_index: label value left out of every count.
        synthia_classes: also report ``mIoU16`` and ``mIoU13`` (SYNTHIA;
            the subsets are Cityscapes class names present in the class set).
        extra_class_subsets: ``{name: [train ids or class names]}``: more
            means over subsets.
        absent_class_iou: ``'nan'`` (a class without label pixels is n/a)
            or ``'zero'`` (mmseg: IoU 0 when predicted but absent).
        classes: class names; default ``dataset_meta['classes']`` or the 19
            Cityscapes classes.
        print_table: log the per-class table.
        title: what was evaluated, shown in the table headers, e.g.
            ``'DarkZurich night val, student'`` (:mod:`.titles`).
        with_confusion: also count the confusion matrix; after
            ``evaluate`` it is in :attr:`confusion` (``(C, C)`` pixel counts,
            rows = ground truth, columns = prediction).
    """

    default_prefix: Optional[str] = ''  # metric keys without a prefix

    def __init__(self, ignore_index: int = 255,
                 synthia_classes: bool = False,
                 extra_class_subsets: Optional[Dict[str, Sequence[int]]] =
                 None,
                 classes: Optional[Sequence[str]] = None,
                 print_table: bool = True,
                 title: Optional[str] = None,
                 with_confusion: bool = False,
                 absent_class_iou: str = 'nan', **kwargs) -> None:
        super().__init__(**kwargs)
        if absent_class_iou not in ('nan', 'zero'):
            raise ValueError('IoUMetric: absent_class_iou must be "nan" or '
                             f'"zero", got {absent_class_iou!r}')
        self.absent_class_iou = absent_class_iou
        self.ignore_index = ignore_index
        self.subsets = dict(extra_class_subsets or {})
        if synthia_classes:
            self.subsets.setdefault('mIoU16', SYNTHIA_16_NAMES)
            self.subsets.setdefault('mIoU13', SYNTHIA_13_NAMES)
        self._classes = tuple(classes) if classes is not None else None
        self.print_table = print_table
        self.title = title
        self.with_confusion = with_confusion
        self.confusion: Optional[np.ndarray] = None

    @property
    def class_names(self) -> tuple:
        if self._classes is not None:
            return self._classes
        meta = self.dataset_meta or {}
        return tuple(meta.get('classes', CLASSES))

    def _label_of(self, sample: dict) -> np.ndarray:
        if sample.get('gt_sem_seg') is not None:
            return _as_numpy(sample['gt_sem_seg'])
        metas = sample.get('img_metas') or {}
        path = metas.get('seg_map_path')
        if path is None:
            raise ValueError('IoUMetric: no gt_sem_seg and no seg_map_path '
                             f'for {metas.get("filename", "a sample")}')
        return read_label(path)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = _as_numpy(sample['pred_sem_seg'])
            label = self._label_of(sample)
            if pred.shape != label.shape:
                name = (sample.get('img_metas') or {}).get('filename', '?')
                raise ValueError(f'IoUMetric: prediction {pred.shape} and '
                                 f'label {label.shape} of {name} differ')
            num_classes = len(self.class_names)
            stats = area_stats(pred, label, num_classes, self.ignore_index)
            if self.with_confusion:  # rows 4.. hold the confusion matrix
                stats = np.concatenate([stats, confusion_matrix(
                    pred, label, num_classes, self.ignore_index)])
            self.results.append(stats)

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Metrics of the summed per-image areas: ``(4, C)`` each, or
        ``(4 + C, C)`` with the confusion matrix below."""
        total = np.sum(results, axis=0)
        inter, union, _, label = total[:4]
        if total.shape[0] > 4:
            self.confusion = total[4:]
        with np.errstate(divide='ignore', invalid='ignore'):
            present = label > 0 if self.absent_class_iou == 'nan' \
                else union > 0
            iou = np.where(present, inter / union, np.nan)
            acc = np.where(label > 0, inter / label, np.nan)
        metrics = {'aAcc': _percent(inter.sum() / max(label.sum(), 1)),
                   'mIoU': _percent(_nanmean(iou)),
                   'mAcc': _percent(_nanmean(acc))}
        for name, ids in self.subsets.items():
            metrics[name] = _percent(_nanmean(iou[self._subset_ids(ids)]))
        for c, name in enumerate(self.class_names):
            metrics[f'IoU.{name}'] = _percent(iou[c])
            metrics[f'Acc.{name}'] = _percent(acc[c])
        if self.print_table:
            self._log_table(metrics)
        return metrics

    def _subset_ids(self, ids: Sequence) -> List[int]:
        """Train ids of a subset given by ids or names (names missing from
        the class set are left out)."""
        names = self.class_names
        return [names.index(c) if isinstance(c, str) else int(c)
                for c in ids if not isinstance(c, str) or c in names]

    def _log_table(self, metrics: Dict[str, float]) -> None:
        rows = [[name, _cell(metrics[f'IoU.{name}']),
                 _cell(metrics[f'Acc.{name}'])] for name in self.class_names]
        summary = [k for k in metrics if '.' not in k]
        about = f' ({self.title})' if self.title else ''
        print_log(f'per class results{about}:\n' + format_table(
            ['Class', 'IoU', 'Acc'], rows), logger='current')
        print_log(f'Summary{about}:\n' + format_table(
            summary, [[_cell(metrics[k]) for k in summary]]),
            logger='current')
