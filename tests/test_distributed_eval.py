"""Distributed evaluation: each of 2 ranks scores its share of the images
and the gathered mIoU equals the 1-process one."""
import math

import torch

from dist_harness import run_on_ranks

NUM_IMAGES = 5  # odd: the sampler pads one rank's share


def samples():
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(NUM_IMAGES):
        label = torch.randint(0, 6, (16, 16), generator=g)
        label[:2] = 255
        pred = torch.where(torch.rand(16, 16, generator=g) < 0.7, label,
                           torch.randint(0, 6, (16, 16), generator=g))
        out.append(dict(pred_sem_seg=pred, gt_sem_seg=label))
    return out


def evaluate(indices):
    from mmseg.evaluation.iou_metric import IoUMetric
    metric = IoUMetric(collect_device='gpu', print_table=False)
    data = samples()
    for i in indices:
        metric.process(None, [data[i]])
    return metric.evaluate(NUM_IMAGES)


def eval_worker(rank, world_size):
    from mmengine.dataset import DefaultSampler
    return evaluate(list(DefaultSampler(list(range(NUM_IMAGES)),
                                        shuffle=False)))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_distributed_miou_equals_one_process():
    single = evaluate(range(NUM_IMAGES))
    for result in run_on_ranks(eval_worker, 2):
        assert result.keys() == single.keys()
        assert all(same(result[k], single[k]) for k in single), result
    assert 0 < single['mIoU'] < 100
    # a rank alone (its share only) would see different numbers
    assert evaluate([0, 2, 4])['mIoU'] != single['mIoU']
