"""Rare class memory: FIFO storage, frequency sampling, pasting, state."""
import io

import torch
from torch import nn

from mmseg.models.uda.parts.context import (MixedBatch, PseudoLabels,
                                            UDAStepContext)
from mmseg.models.uda.parts.eglp.object_paste import night_recolour
from mmseg.models.uda.parts.eglp.rare_class_memory import RareClassMemory
from mmseg.registry import MODELS

NORM = dict(mean=[100.0, 110.0, 120.0], std=[50.0, 60.0, 70.0])


def _source(blobs, h=32, w=32, cls=12):
    """One image; ``blobs`` = list of (y, x, size) squares of ``cls``."""
    img = torch.zeros(1, 3, h, w)
    gt = torch.full((1, 1, h, w), 255)
    for i, (y, x, s) in enumerate(blobs):
        gt[0, 0, y:y + s, x:x + s] = cls
        img[0, :, y:y + s, x:x + s] = i + 1
    return img, gt


def _mixed(b=1, h=32, w=32):
    return MixedBatch(img=torch.zeros(b, 3, h, w),
                      label=torch.zeros(b, 1, h, w, dtype=torch.long),
                      weight=torch.full((b, h, w), 0.3),
                      mask=torch.zeros(b, 1, h, w))


def test_enqueue_components_min_area_and_fifo():
    rcm = RareClassMemory(capacity=3, min_area=16)
    img, gt = _source([(0, 0, 4), (10, 10, 5), (20, 20, 3), (0, 20, 6)])
    assert rcm.enqueue(img, gt) == 3  # the 3x3 blob is below min_area
    queue = rcm.queues[12]
    # components come in scan order: (0, 0), (0, 20), (10, 10)
    assert [o.top for o in queue] == [0, 0, 10]
    assert [tuple(o.mask.shape) for o in queue] == [(4, 4), (6, 6), (5, 5)]
    assert queue[2].mask.all() and (queue[2].img == 2).all()
    img2, gt2 = _source([(25, 0, 5)])
    rcm.enqueue(img2, gt2)
    queue = rcm.queues[12]  # oldest dropped
    assert [tuple(o.mask.shape) for o in queue] == [(6, 6), (5, 5), (5, 5)]
    assert [o.top for o in queue] == [0, 10, 25]


def test_components_use_8_connectivity():
    rcm = RareClassMemory(min_area=8)
    gt = torch.full((1, 1, 16, 16), 255)
    gt[0, 0, 0:2, 0:2] = 5
    gt[0, 0, 2:4, 2:4] = 5  # touches the first block diagonally only
    assert rcm.enqueue(torch.zeros(1, 3, 16, 16), gt) == 1
    assert rcm.queues[5][0].mask.shape == (4, 4)
    assert int(rcm.queues[5][0].mask.sum()) == 8


def test_rarer_pseudo_classes_sampled_more():
    rcm = RareClassMemory(min_area=4)
    img, gt = _source([(0, 0, 4)], cls=11)
    rcm.enqueue(img, gt)
    img, gt = _source([(0, 0, 4)], cls=12)
    rcm.enqueue(img, gt)
    pseudo = torch.full((2, 10, 10), 11)
    pseudo[:, :2] = 12  # teacher predicts class 12 rarely
    rcm.update_frequency(pseudo)
    assert torch.allclose(rcm.frequencies()[[11, 12]].float(),
                          torch.tensor([0.8, 0.2]))
    classes, probs = rcm.class_probabilities()
    assert classes == [11, 12]
    assert torch.allclose(probs, torch.softmax(
        torch.tensor([0.2, 0.8], dtype=torch.float64) / 0.01, 0))
    g = torch.Generator().manual_seed(0)
    draws = [rcm.sample_class(g) for _ in range(50)]
    assert draws.count(12) == 50


def test_frequency_ema_mode():
    rcm = RareClassMemory(num_classes=3, classes=(1, ), freq_momentum=0.5)
    rcm.update_frequency(torch.tensor([[0, 0, 1, 255]]))
    rcm.update_frequency(torch.tensor([[1, 1, 1, 1]]))
    # 0.5 [2/3, 1/3, 0] + 0.5 [0, 1, 0]
    assert torch.allclose(rcm.pseudo_hist.float(),
                          torch.tensor([1 / 3, 2 / 3, 0]))


def test_paste_labels_weights_and_vertical_position():
    rcm = RareClassMemory(min_area=4, scale_jitter=(1.0, 1.0), max_objects=1)
    img, gt = _source([(12, 3, 6)])
    img[:, :, 12:18, 3:9] = 5.0
    rcm.enqueue(img, gt)
    mixed = _mixed()
    out = rcm.paste(mixed, torch.zeros(1, 3, 32, 32), NORM,
                    torch.Generator().manual_seed(0))
    pasted = out.label[0, 0] == 12
    assert int(pasted.sum()) == 36
    rows = pasted.any(1).nonzero().flatten()
    assert rows.min() == 12 and rows.max() == 17
    assert (out.img[0][:, pasted] == 5.0).all()
    assert (out.weight[0][pasted] == 1).all()
    assert (out.weight[0][~pasted] == 0.3).all()
    assert (out.mask[0, 0][pasted] == 1).all()
    assert (mixed.label == 0).all() and (mixed.weight == 0.3).all()


def test_paste_counts_and_scaled_objects_stay_inside():
    rcm = RareClassMemory(min_area=4, max_objects=3)
    img, gt = _source([(26, 0, 6)], cls=17)
    rcm.enqueue(img, gt)
    g = torch.Generator().manual_seed(0)
    for _ in range(10):
        out = rcm.paste(_mixed(b=2), torch.zeros(2, 3, 32, 32), NORM, g)
        for b in range(2):
            area = int((out.label[b, 0] == 17).sum())
            assert 0 < area <= 3 * 8 * 8


def test_night_recolour_matches_target_statistics():
    g = torch.Generator().manual_seed(0)
    crop = torch.randn(3, 6, 6, generator=g)
    mask = torch.ones(6, 6, dtype=torch.bool)
    target = 0.3 * torch.randn(3, 16, 16, generator=g) - 1.0
    styled = night_recolour(crop, mask, target, NORM)
    mean = torch.tensor(NORM['mean']).view(3, 1)
    std = torch.tensor(NORM['std']).view(3, 1)
    obj = styled.flatten(1) * std + mean
    tgt = target.flatten(1) * std + mean
    assert torch.allclose(obj.mean(1), tgt.mean(1), atol=1e-2)
    assert torch.allclose(obj.std(1, unbiased=False),
                          tgt.std(1, unbiased=False), atol=1e-2)


def _ctx(img, gt, iteration=0):
    return UDAStepContext(
        iteration=iteration, student=nn.Identity(),
        source=dict(img=img, gt_semantic_seg=gt,
                    img_metas=[dict(img_norm_cfg=NORM)]),
        target=dict(img=torch.zeros(1, 3, 32, 32)),
        pseudo=PseudoLabels(label=torch.zeros(1, 32, 32).long(),
                            weight=torch.ones(1, 32, 32)))


def test_augment_pastes_from_memory_then_enqueues():
    rcm = MODELS.build(dict(type='RCM', min_area=4, prob=1.0,
                            night_style=True))
    assert rcm.stage == 'before_strong_aug'
    img, gt = _source([(10, 10, 6)], cls=18)
    g = torch.Generator().manual_seed(0)
    first = rcm.augment(_ctx(img, gt), _mixed(), g)
    assert not (first.label == 18).any()  # memory was empty
    assert len(rcm.queues[18]) == 1
    assert rcm.pseudo_hist[0] == 32 * 32
    second = rcm.augment(_ctx(img, gt, 1), _mixed(), g)
    assert (second.label == 18).any()
    skip = RareClassMemory(min_area=4, prob=0.0)
    skip.enqueue(img, gt)
    assert not (skip.augment(_ctx(img, gt), _mixed(), g).label == 18).any()


def test_state_round_trip_weights_only():
    rcm = RareClassMemory(min_area=4, use_prompt=True)
    img, gt = _source([(0, 0, 4), (10, 10, 5)], cls=6)
    rcm.enqueue(img, gt)
    rcm.enqueue(img, gt, origin='prompt')
    rcm.update_frequency(torch.tensor([[6, 6, 1]]))
    buffer = io.BytesIO()
    torch.save(rcm.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    fresh = RareClassMemory(min_area=4)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.pseudo_hist, rcm.pseudo_hist)
    old, new = rcm.queues[6], fresh.queues[6]
    assert len(new) == 4
    assert [o.origin for o in new] == ['source'] * 2 + ['prompt'] * 2
    for a, b in zip(old, new):
        assert torch.equal(a.img, b.img) and torch.equal(a.mask, b.mask)
        assert (a.top, a.canvas_height, a.cls) == (b.top, b.canvas_height,
                                                   b.cls)
