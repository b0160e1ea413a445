"""DNIS class similarity: masked class images, absent classes, EMA, ranks."""
import torch
from torch import nn

from mmseg.models.uda.parts.eglp.class_similarity import (ClassSimilarity,
                                                          rank_least_similar)


class MeanAbsDiff(nn.Module):
    """Stand-in metric: mean |x - y| per pair; counts its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x, y, img_norm_cfg=None):
        self.calls += 1
        return (x - y).abs().mean((1, 2, 3))


def _batch():
    src = torch.ones(2, 3, 4, 4)
    src[1] *= 3
    gt = torch.full((2, 1, 4, 4), 255)
    gt[0, 0, :2] = 0  # class 0 in sample 0 (8 px)
    gt[0, 0, 2:, :2] = 2  # class 2 in sample 0 (4 px)
    gt[1, 0, :1] = 2  # class 2 in sample 1 (4 px)
    return src, gt, torch.zeros(2, 3, 4, 4)


def test_masked_class_images_and_absent_zero():
    metric = MeanAbsDiff()
    sim = ClassSimilarity(lpips=metric, num_classes=4)
    src, gt, tgt = _batch()
    d = sim(src, gt, tgt)
    assert metric.calls == 1  # all class images in one metric call
    expected = torch.tensor([[8 / 16, 0, 4 / 16, 0],
                             # class 0 absent in sample 1: black image
                             [0, 0, 3 * 4 / 16, 0]])
    assert torch.allclose(d, expected)
    assert sim.candidates(gt).tolist() == [[True, False, True, False]] * 2


def test_chunked_calls_give_same_distances():
    src, gt, tgt = _batch()
    full = ClassSimilarity(lpips=MeanAbsDiff(), num_classes=4)(src, gt, tgt)
    metric = MeanAbsDiff()
    chunked = ClassSimilarity(lpips=metric, num_classes=4, chunk_size=1)
    assert torch.allclose(chunked(src, gt, tgt), full)
    assert metric.calls == 4


def test_lpips_plus_dists_averages():
    src, gt, tgt = _batch()
    lp = ClassSimilarity(lpips=MeanAbsDiff(), num_classes=4)(src, gt, tgt)
    both = ClassSimilarity(metric='lpips+dists', lpips=MeanAbsDiff(),
                           dists=MeanAbsDiff(), num_classes=4)(src, gt, tgt)
    assert torch.allclose(both, lp)  # (d + d) / 2


def test_ema_updates_only_present_classes():
    sim = ClassSimilarity(lpips=MeanAbsDiff(), num_classes=4, ema=0.5)
    src, gt, tgt = _batch()
    d = sim(src, gt, tgt)
    # first observation initialises: s_0 = 1 - 0.5, s_2 = 1 - mean(.25, .75)
    assert torch.allclose(sim.similarity, torch.tensor([0.5, 0, 0.5, 0]))
    assert sim.seen.tolist() == [True, False, True, False]
    assert torch.allclose(d, torch.tensor([[0.5, 0, 0.5, 0]] * 2))
    gt2 = torch.full_like(gt, 255)
    gt2[0, 0, :1] = 2  # only class 2 present now, d = 4/16
    sim(src, gt2, tgt)
    assert torch.allclose(sim.similarity, torch.tensor(
        [0.5, 0, 0.5 * 0.5 + 0.5 * 0.75, 0]))
    assert 'similarity' in sim.state_dict() and 'seen' in sim.state_dict()


def test_ranks_least_similar_first_with_stable_ties():
    d = torch.tensor([[0.1, 0.0, 0.3, 0.3, 0.0]])
    ranks = rank_least_similar(d, candidates=d > 0)
    assert ranks.tolist() == [[3, 4, 1, 2, 5]]
    cand = torch.tensor([True, True, True, True, False])
    assert rank_least_similar(d, cand).tolist() == [[3, 4, 1, 2, 5]]
    # PIG order: absent classes (0) tie with each other, lower index first
    assert rank_least_similar(d, cand, absent_fill=True).tolist() == \
        [[3, 4, 1, 2, 5]]
    d2 = torch.tensor([[0.0, 0.2, 0.0]])
    assert rank_least_similar(d2, d2 > 0).tolist() == [[2, 1, 3]]
    assert rank_least_similar(d2, d2 > 0, absent_fill=True).tolist() == \
        [[2, 1, 3]]
    d3 = torch.tensor([[0.0, 0.0, 0.2, 0.0]])
    cand3 = torch.tensor([False, True, True, False])
    assert rank_least_similar(d3, cand3).tolist() == [[3, 2, 1, 4]]
    assert rank_least_similar(d3, cand3, absent_fill=True).tolist() == \
        [[2, 3, 1, 4]]


def test_with_random_lpips_source_resized_to_target():
    sim = ClassSimilarity(lpips=dict(type='LPIPS', pretrained=False,
                                     input_range='minus_one_one'))
    src = torch.randn(2, 3, 64, 64)
    gt = torch.randint(0, 3, (2, 1, 64, 64))
    d = sim(src, gt, torch.randn(2, 3, 48, 48))
    assert d.shape == (2, 19)
    assert (d[:, :3] > 0).all() and (d[:, 3:] == 0).all()
