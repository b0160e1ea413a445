"""IoUMetric against hand-computed confusion matrices."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from mmseg.evaluation.iou_metric import (IoUMetric, area_stats,
                                          confusion_matrix)

CLASSES = ('a', 'b', 'c', 'd')


def confusion(preds, labels, n, ignore=255):
    cm = np.zeros((n, n))
    for p, l in zip(preds, labels):
        keep = l != ignore
        for pi, li in zip(p[keep], l[keep]):
            cm[li, pi] += 1
    return cm


def run(metric, preds, labels):
    metric.process(None, [dict(pred_sem_seg=torch.as_tensor(p),
                               gt_sem_seg=torch.as_tensor(l))
                          for p, l in zip(preds, labels)])
    return metric.compute_metrics(metric.results)


PREDS = [np.array([[0, 1, 1], [2, 2, 0]]), np.array([[1, 1], [0, 2]])]
LABELS = [np.array([[0, 1, 2], [2, 255, 0]]), np.array([[1, 0], [0, 255]])]


def test_matches_the_confusion_matrix_over_the_whole_dataset():
    out = run(IoUMetric(classes=CLASSES, print_table=False), PREDS, LABELS)
    cm = confusion(PREDS, LABELS, 4)
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    iou = tp[:3] / union[:3]  # class d: absent from labels and predictions
    acc = tp[:3] / cm.sum(1)[:3]
    assert out['mIoU'] == round(iou.mean() * 100, 2)
    assert out['mAcc'] == round(acc.mean() * 100, 2)
    assert out['aAcc'] == round(tp.sum() / cm.sum() * 100, 2)
    assert out['IoU.b'] == round(iou[1] * 100, 2)
    assert math.isnan(out['IoU.d']) and math.isnan(out['Acc.d'])


def test_totals_are_summed_not_averaged_per_image():
    preds = [np.zeros((1, 1), np.int64), np.ones((1, 9), np.int64)]
    labels = [np.ones((1, 1), np.int64), np.ones((1, 9), np.int64)]
    out = run(IoUMetric(classes=('a', 'b'), print_table=False,
                        absent_class_iou='zero'), preds, labels)
    assert out['IoU.b'] == 90.0 and out['IoU.a'] == 0.0  # 9/10, not 0.5
    assert out['mIoU'] == 45.0


def test_class_predicted_but_absent_counts_as_zero_in_reference_mode():
    out = run(IoUMetric(classes=('a', 'b'), print_table=False,
                        absent_class_iou='zero'),
              [np.array([[0, 1]])], [np.array([[0, 0]])])
    assert out['IoU.b'] == 0.0 and math.isnan(out['Acc.b'])
    assert out['mIoU'] == 25.0


def test_class_absent_from_the_labels_is_na_and_leaves_the_mean(
        monkeypatch):
    """HRDA#44: a binary set whose val images lack one class."""
    import mmseg.evaluation.iou_metric as iou_module
    logged = []
    monkeypatch.setattr(iou_module, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    metric = IoUMetric(classes=('background', 'object'), print_table=True)
    out = run(metric, [np.array([[0, 1, 0, 0]])], [np.array([[0, 0, 0, 0]])])
    assert math.isnan(out['IoU.object']) and math.isnan(out['Acc.object'])
    assert out['IoU.background'] == 75.0
    assert out['mIoU'] == 75.0 and math.isfinite(out['mIoU'])
    table = '\n'.join(logged)
    row = [line for line in table.splitlines() if 'object' in line][0]
    assert 'n/a' in row and 'nan' not in table


def test_absent_class_iou_is_checked():
    with pytest.raises(ValueError, match='absent_class_iou'):
        IoUMetric(absent_class_iou='skip')


def test_subsets_given_by_name():
    out = run(IoUMetric(classes=CLASSES, print_table=False,
                        extra_class_subsets={'ab': ['a', 'b']}),
              PREDS, LABELS)
    assert out['ab'] == round((out['IoU.a'] + out['IoU.b']) / 2, 2)


def test_ignored_pixels_and_out_of_range_predictions():
    stats = area_stats(np.array([5, 0, 1]), np.array([0, 255, 1]), 2)
    np.testing.assert_array_equal(stats, [[0, 1], [1, 1], [0, 1], [1, 1]])


def test_synthia_subsets_and_dataset_meta_classes():
    metric = IoUMetric(synthia_classes=True, print_table=False,
                       extra_class_subsets={'mIoU2': [0, 1]})
    from mmseg.datasets.cityscapes_labels import CLASSES as CS
    metric.dataset_meta = dict(classes=CS)
    label = np.arange(19).reshape(1, 19)
    pred = label.copy()
    pred[0, 3] = 9  # wall taken for terrain: wall 0, terrain 1/2
    out = run(metric, [pred], [label])
    assert out['mIoU13'] == 100.0  # neither wall nor terrain counted
    assert out['mIoU16'] == 93.75  # wall counted, terrain not
    assert out['mIoU'] == round((17 + 0.5) / 19 * 100, 2)
    assert out['mIoU2'] == 100.0
    assert 'IoU.bicycle' in out


def test_label_read_from_seg_map_path_when_missing(tmp_path):
    path = tmp_path / 'x_labelTrainIds.png'
    Image.fromarray(np.array([[0, 1]], np.uint8)).save(path)
    metric = IoUMetric(classes=('a', 'b'), print_table=False)
    metric.process(None, [dict(pred_sem_seg=torch.tensor([[0, 0]]),
                               img_metas=dict(seg_map_path=str(path)))])
    out = metric.compute_metrics(metric.results)
    assert out['IoU.a'] == 50.0
    with pytest.raises(ValueError, match='prediction'):
        metric.process(None, [dict(pred_sem_seg=torch.zeros(2, 2),
                                   img_metas=dict(seg_map_path=str(path),
                                                  filename='x.png'))])


def test_evaluate_through_mmengine_and_table(capsys):
    metric = IoUMetric(classes=('a', 'b'))
    metric.process(None, [dict(pred_sem_seg=torch.tensor([[0, 1]]),
                               gt_sem_seg=torch.tensor([[0, 1]]))])
    out = metric.evaluate(1)
    assert out['mIoU'] == 100.0 and 'aAcc' in out


def test_confusion_matrix_counts_and_metrics_unchanged():
    pred = np.array([[0, 1, 1], [2, 2, 0]])
    label = np.array([[0, 1, 2], [2, 255, 1]])
    cm = confusion_matrix(pred, label, 3)
    assert cm.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]
    assert np.array_equal(np.diag(cm), area_stats(pred, label, 3)[0])
    plain = IoUMetric(classes=('a', 'b', 'c'), print_table=False)
    with_cm = IoUMetric(classes=('a', 'b', 'c'), print_table=False,
                        with_confusion=True)
    for metric in (plain, with_cm):
        for _ in range(2):
            metric.process(None, [dict(pred_sem_seg=torch.tensor(pred),
                                       gt_sem_seg=torch.tensor(label))])
    assert with_cm.evaluate(2) == plain.evaluate(2)
    assert with_cm.confusion.tolist() == (2 * cm).tolist()
    assert plain.confusion is None
