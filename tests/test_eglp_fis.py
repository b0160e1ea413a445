"""FIS fusion: K least similar present classes from NFNet, exemptions kept."""
import pytest
import torch
from torch import nn

from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity
from mmseg.models.uda.parts.context import PseudoLabels, UDAStepContext
from mmseg.models.uda.parts.eglp.fis import PIG_EXEMPT, FISRefiner, fis_fuse
from mmseg.registry import MODELS


class MeanAbsDiff(nn.Module):

    def forward(self, x, y, img_norm_cfg=None):
        return (x - y).abs().mean((1, 2, 3))


def _reference_fuse(uda, nf, guides, exempt):
    out = uda.clone()
    for b in range(uda.shape[0]):
        for idx in range(uda[b].numel()):
            u, n = uda[b].view(-1)[idx], nf[b].view(-1)[idx]
            if int(n) in guides[b] and int(u) not in exempt:
                out[b].view(-1)[idx] = n
    return out


def test_pig_exempt_set_equals_reference_test():
    pig = {c for c in range(19) if c > 14 or c in (6, 7)}
    assert set(PIG_EXEMPT) == pig


def test_fuse_takes_k_least_similar_present_classes():
    d = torch.zeros(2, 19)
    d[0, [0, 1, 2, 3, 8, 9, 10]] = torch.tensor([.1, .5, .2, .9, .7, .6, .05])
    d[1, [2, 4, 5, 11, 12, 13]] = torch.tensor([.3, .8, .1, .4, .45, .2])
    guides = [{3, 8, 9, 1}, {4, 12, 11, 2}]
    g = torch.Generator().manual_seed(1)
    uda = torch.randint(0, 19, (2, 16, 16), generator=g)
    nf = torch.randint(0, 19, (2, 16, 16), generator=g)
    fused = fis_fuse(uda, nf, d, k=4)
    assert torch.equal(fused, _reference_fuse(uda, nf, guides, PIG_EXEMPT))
    exempt = torch.isin(uda, torch.tensor(PIG_EXEMPT))
    assert torch.equal(fused[exempt], uda[exempt])
    changed = fused != uda
    assert changed.any()
    for b in range(2):
        assert set(fused[b][changed[b]].tolist()) <= guides[b]


def test_fuse_from_ranks_and_without_exemptions():
    ranks = torch.arange(1, 20).expand(1, 19)  # class c has rank c + 1
    uda = torch.full((1, 2, 2), 6)  # traffic light everywhere
    nf = torch.tensor([[[0, 1], [3, 4]]])
    assert torch.equal(fis_fuse(uda, nf, ranks, k=4), uda)
    assert fis_fuse(uda, nf, ranks, k=4, exempt=()).tolist() == \
        [[[0, 1], [3, 6]]]


def test_fuse_rejects_mismatched_labels():
    with pytest.raises(ValueError, match='fis.py'):
        fis_fuse(torch.zeros(1, 2, 2).long(), torch.zeros(1, 3, 2).long(),
                 torch.zeros(1, 19))


def _context(nf_logits):
    src = torch.zeros(2, 3, 8, 8)
    gt = torch.full((2, 1, 8, 8), 255)
    # class c is row c of sample 0 with value c + 1: distance grows with c
    for c in range(6):
        src[0, :, c] = c + 1
        gt[0, 0, c] = c
    gt[1, 0, 7] = 9
    src[1, :, 7] = 0.5
    return UDAStepContext(
        iteration=0, student=nn.Identity(),
        source=dict(img=src, gt_semantic_seg=gt),
        target=dict(img=torch.zeros(2, 3, 8, 8)),
        extras=dict(nfnet_logits=nf_logits))


def test_refiner_uses_nfnet_for_guides_and_keeps_weight():
    refiner = MODELS.build(dict(type='FIS', similarity=ClassSimilarity(
        lpips=MeanAbsDiff())))
    assert isinstance(refiner, FISRefiner)
    nf = torch.arange(19).view(1, 19, 1, 1) * 0.0
    nf_label = torch.tensor([[0, 2, 3, 4], [5, 7, 9, 1]]).view(2, 1, 4)
    nf_label = nf_label.expand(2, 2, 4)
    nf_logits = torch.nn.functional.one_hot(nf_label, 19).permute(0, 3, 1, 2)
    ctx = _context(nf_logits.float() + nf)
    pseudo = PseudoLabels(label=torch.full((2, 2, 4), 13),
                          weight=torch.full((2, 2, 4), 0.7))
    out = refiner.refine(ctx, pseudo)
    # present in the batch: 0..5 and 9; sample 0: d grows with c -> {2..5}
    # (class 9 is black in sample 0: distance 0); sample 1: only 9 has d > 0,
    # the rest of the present classes tie at 0 -> lowest indices 0, 1, 2.
    assert ctx.extras['fis_ranks'][0, [5, 4, 3, 2]].tolist() == [1, 2, 3, 4]
    assert out.label[0].tolist() == [[13, 2, 3, 4]] * 2
    assert out.label[1].tolist() == [[13, 13, 9, 1]] * 2
    assert torch.equal(out.weight, pseudo.weight)


def test_refiner_requires_nfnet_logits():
    refiner = FISRefiner(similarity=ClassSimilarity(lpips=MeanAbsDiff()))
    ctx = _context(None)
    ctx.extras.clear()
    with pytest.raises(KeyError, match='nfnet_logits'):
        refiner.refine(ctx, PseudoLabels(label=torch.zeros(2, 8, 8).long(),
                                         weight=torch.ones(2, 8, 8)))
