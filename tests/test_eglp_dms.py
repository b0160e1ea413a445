"""DMS: hard_pig == FIS, soft rank/ramp fusion, weights, prompt policy."""
import pytest
import torch
from torch import nn

from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity
from mmseg.models.uda.parts.context import PseudoLabels, UDAStepContext
from mmseg.models.uda.parts.eglp.dms import (DynamicMixing, linear_ramp,
                                             rank_alpha)
from mmseg.models.uda.parts.eglp.fis import FISRefiner
from mmseg.registry import MODELS


class MeanAbsDiff(nn.Module):

    def forward(self, x, y, img_norm_cfg=None):
        return (x - y).abs().mean((1, 2, 3))


def _context(iteration=0, valid=None):
    g = torch.Generator().manual_seed(0)
    gt = torch.randint(0, 19, (2, 1, 8, 8), generator=g)
    target = dict(img=torch.randn(2, 3, 8, 8, generator=g))
    if valid is not None:
        target['valid_pseudo_mask'] = valid
    return UDAStepContext(
        iteration=iteration, student=nn.Identity(), target=target,
        source=dict(img=torch.randn(2, 3, 8, 8, generator=g),
                    gt_semantic_seg=gt),
        extras=dict(nfnet_logits=torch.randn(2, 19, 8, 8, generator=g)))


def _pseudo():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 19, 8, 8, generator=g)
    return PseudoLabels(label=logits.argmax(1), weight=torch.rand(2, 8, 8),
                        logits=logits)


def test_rank_alpha_hand_values():
    alpha = rank_alpha(torch.tensor([1, 2, 4, 5, 19]), k=4)
    assert torch.allclose(alpha, torch.tensor([1.0, 0.740, 0.511, 0, 0]),
                          atol=1e-3)
    assert rank_alpha(torch.tensor([19]), k=19).item() == \
        pytest.approx(0.1684, abs=1e-4)


def test_linear_ramp():
    assert [linear_ramp(t, 4000) for t in (0, 1000, 4000, 9000)] == \
        [0.0, 0.25, 1.0, 1.0]


def test_hard_pig_equals_fis():
    sim = ClassSimilarity(lpips=MeanAbsDiff())
    dms = MODELS.build(dict(type='DMS', mode='hard_pig', similarity=sim))
    assert isinstance(dms, DynamicMixing)
    pseudo = _pseudo()
    out = dms.refine(_context(), pseudo)
    ref = FISRefiner(similarity=sim).refine(_context(), pseudo)
    assert torch.equal(out.label, ref.label)
    assert torch.equal(out.weight, ref.weight)
    assert not torch.equal(out.label, pseudo.label)


def test_soft_mixing_weights_follow_rank_and_ramp():
    dms = DynamicMixing(mode='soft', similarity=ClassSimilarity(
        lpips=MeanAbsDiff()), ramp_iters=4000)
    ranks = torch.tensor([[1, 2, 3, 4, 5]])
    a0 = dms.mixing_weights(ranks, 0)
    a_half = dms.mixing_weights(ranks, 2000)
    a_full = dms.mixing_weights(ranks, 10000)
    assert torch.equal(a0, torch.zeros(1, 5))
    assert torch.allclose(a_full, torch.tensor(
        [[1.0, 0.7404, 0.6021, 0.5119, 0.0]]), atol=1e-4)
    assert torch.allclose(a_half, 0.5 * a_full)


def test_soft_fuse_formula_and_exempt_classes():
    dms = DynamicMixing(mode='soft', similarity=ClassSimilarity(
        lpips=MeanAbsDiff()), exempt=(2, ))
    ranks = torch.tensor([[2, 1, 3]])
    p_uda = torch.tensor([0.2, 0.5, 0.3]).view(1, 3, 1, 1).repeat(1, 1, 1, 2)
    p_uda[0, :, 0, 1] = torch.tensor([0.1, 0.1, 0.8])  # UDA says exempt class
    p_nf = torch.tensor([0.6, 0.1, 0.3]).view(1, 3, 1, 1).repeat(1, 1, 1, 2)
    fused = dms.soft_fuse(p_uda, p_nf, ranks, iteration=4000)
    a = torch.tensor([0.7404, 1.0, 0.6021]).view(3)
    expected = a * p_nf[0, :, 0, 0] + (1 - a) * p_uda[0, :, 0, 0]
    assert torch.allclose(fused[0, :, 0, 0], expected, atol=1e-4)
    assert torch.equal(fused[0, :, 0, 1], p_uda[0, :, 0, 1])


def test_soft_refine_labels_and_confidence_weight():
    valid = torch.ones(2, 1, 8, 8, dtype=torch.uint8)
    valid[:, :, :2] = 0
    dms = DynamicMixing(mode='soft', similarity=ClassSimilarity(
        lpips=MeanAbsDiff()), threshold=0.2)
    ctx, pseudo = _context(iteration=4000, valid=valid), _pseudo()
    out = dms.refine(ctx, pseudo)
    p_fused = dms.soft_fuse(pseudo.logits.softmax(1),
                            ctx.extras['nfnet_logits'].softmax(1),
                            ctx.extras['fis_ranks'], 4000)
    max_p, label = p_fused.max(1)
    assert torch.equal(out.label, label)
    frac = (max_p >= 0.2).float().mean()
    assert 0 < frac < 1
    assert torch.allclose(out.weight[:, 2:], frac.expand(2, 6, 8))
    assert (out.weight[:, :2] == 0).all()


def test_soft_refine_needs_teacher_logits():
    dms = DynamicMixing(mode='soft', similarity=ClassSimilarity(
        lpips=MeanAbsDiff()))
    pseudo = _pseudo()
    pseudo.logits = None
    with pytest.raises(ValueError, match='logits'):
        dms.refine(_context(), pseudo)


def test_soft_refine_alone_needs_a_threshold():
    dms = DynamicMixing(mode='soft', similarity=ClassSimilarity(
        lpips=MeanAbsDiff()))  # threshold='same': EGLP shares its labeler
    with pytest.raises(ValueError, match="threshold='same'"):
        dms.refine(_context(iteration=4000), _pseudo())
    with pytest.raises(ValueError, match='threshold'):
        DynamicMixing(mode='soft', threshold='0.9',
                      similarity=ClassSimilarity(lpips=MeanAbsDiff()))


def test_prompt_policy_per_mode():
    sim = ClassSimilarity(lpips=MeanAbsDiff())
    hard = DynamicMixing(mode='hard_pig', similarity=sim)
    soft = DynamicMixing(mode='soft', similarity=sim, prompt_loss_decay=True)
    assert hard.split == 0.5 and soft.split == (0.3, 0.7)
    assert [hard.should_mask(t) for t in range(4)] == [False, True] * 2
    g = torch.Generator().manual_seed(0)
    draws = [soft.should_mask(1, g) for _ in range(200)]
    assert 60 < sum(draws) < 140
    assert hard.prompt_loss_weight(500, 1000) == 1.0
    assert soft.prompt_loss_weight(0, 1000) == 1.0
    assert soft.prompt_loss_weight(500, 1000) == pytest.approx(0.75)
    assert soft.prompt_loss_weight(1000, 1000) == pytest.approx(0.5)
    img, label, mask = hard.prompt_mixture(
        torch.ones(1, 3, 2, 4), torch.zeros(1, 1, 2, 4).long(),
        torch.zeros(1, 3, 2, 4), torch.ones(1, 2, 4).long(), g)
    assert mask.sum() == 4 and torch.equal(img[:, :1], mask)
    assert torch.equal(label, 1 - mask.long())
    masked = hard.mask_image(torch.ones(1, 3, 128, 128), g)
    assert set(masked.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match='mode'):
        DynamicMixing(mode='hard', similarity=sim)
