"""Prototype DNIS: class mean features compared between the source and target crops."""
import pytest
import torch
from torch import nn

from mmseg.models.similarity.class_prototype import (ClassPrototypeDistance,
                                                     class_prototypes)
from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity


class PixelFeatures(nn.Module):
    """Encoder stand-in: one stage whose features are the pixels."""

    def forward(self, x):
        return [x]


def _paint(colours, layout):
    """Image [1, 3, 4, 4] and label [1, 4, 4]: ``layout`` rows of class ids."""
    label = torch.tensor(layout)
    img = torch.zeros(3, 4, 4)
    for c, rgb in colours.items():
        img[:, label == c] = torch.tensor(rgb, dtype=torch.float)[:, None]
    return img[None], label[None]


def test_prototypes_are_class_means_and_areas_ignore_255():
    feat = torch.arange(16.).view(1, 1, 4, 4)
    label = torch.tensor([[[0, 0, 1, 1]] * 2 + [[255, 255, 1, 1]] * 2])
    protos, area = class_prototypes(feat, label, num_classes=3)
    assert area[0].tolist() == [4, 8, 0]
    assert protos[0, 0, 0] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert protos[0, 1, 0] == pytest.approx((2 + 3 + 6 + 7 + 10 + 11 + 14 + 15) / 8)


def test_distance_is_one_minus_cosine_and_independent_of_area_and_position():
    metric = ClassPrototypeDistance(encoder=PixelFeatures(), num_classes=3)
    src, src_gt = _paint({0: (1, 0, 0), 1: (0, 1, 0), 2: (0, 0, 1)},
                         [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 2, 2], [1, 1, 2, 2]])
    # class 0: same colour direction, other area and place; class 1: orthogonal colour;
    # class 2: absent from the target
    tgt, tgt_label = _paint({0: (0.5, 0, 0), 1: (0, 0, 1)},
                            [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 1, 1]])
    dist, valid = metric(src, src_gt, tgt, tgt_label)
    assert valid[0].tolist() == [True, True, False]
    assert dist[0].tolist() == pytest.approx([0.0, 1.0, 0.0], abs=1e-6)


def test_min_area_makes_small_classes_undefined():
    metric = ClassPrototypeDistance(encoder=PixelFeatures(), num_classes=2, min_area=2)
    img, label = _paint({0: (1, 0, 0), 1: (0, 1, 0)}, [[1, 0, 0, 0]] + [[0] * 4] * 3)
    _, valid = metric(img, label, img, label)
    assert valid[0].tolist() == [True, False]


def test_class_similarity_prototype_needs_target_label_and_keeps_ema_of_defined_pairs():
    sim = ClassSimilarity(metric='prototype', ema=0.5, num_classes=3,
                          prototype=ClassPrototypeDistance(encoder=PixelFeatures(),
                                                           num_classes=3))
    src, src_gt = _paint({0: (1, 0, 0), 1: (0, 1, 0)}, [[0, 0, 1, 1]] * 4)
    tgt, tgt_label = _paint({0: (1, 0, 0), 1: (0, 0, 1)}, [[0, 0, 1, 1]] * 4)
    with pytest.raises(ValueError, match='pseudo-label'):
        sim(src, src_gt, tgt)
    dist = sim(src, src_gt, tgt, tgt_label=tgt_label)
    assert dist[0].tolist() == pytest.approx([0.0, 1.0, 0.0], abs=1e-6)
    assert sim.seen.tolist() == [True, True, False]
    # second step: class 1 now identical -> S_1 = 0.5 * 0 + 0.5 * 1
    dist = sim(src, src_gt, src, tgt_label=src_gt)
    assert dist[0, 1].item() == pytest.approx(0.5)
    ranks = sim.ranks(dist, sim.candidates(src_gt, dist))
    assert ranks[0, 1] == 1  # least similar first


def test_per_iteration_prototype_candidates_are_the_defined_classes():
    sim = ClassSimilarity(metric='prototype', num_classes=3,
                          prototype=ClassPrototypeDistance(encoder=PixelFeatures(),
                                                           num_classes=3))
    src, src_gt = _paint({0: (1, 0, 0), 1: (0, 1, 0)}, [[0, 0, 1, 1]] * 4)
    tgt, tgt_label = _paint({0: (0, 1, 0)}, [[0] * 4] * 4)
    dist = sim(src, src_gt, tgt, tgt_label=tgt_label)
    assert sim.candidates(src_gt, dist)[0].tolist() == [True, False, False]


def test_prototype_encoder_from_config_is_frozen_and_stays_in_eval_mode():
    metric = ClassPrototypeDistance(encoder=dict(type='mit_b0'), num_classes=19)
    metric.train()
    assert not metric.encoder.training
    assert not any(p.requires_grad for p in metric.parameters())
    img = torch.randn(1, 3, 64, 64)
    label = torch.zeros(1, 64, 64, dtype=torch.long)
    dist, valid = metric(img, label, img, label)
    assert valid[0, 0] and dist[0, 0].abs() < 1e-5


def _fis_case(dnis_target):
    """Class 2 looks different at night. The NFNet teacher labels it right
    (its pixels are all class 2); the UDA teacher calls them class 1."""
    from mmseg.models.uda.parts.context import PseudoLabels, UDAStepContext
    from mmseg.models.uda.parts.eglp.fis import FISRefiner
    colours = {c: [float(c == k) for k in range(3)] for c in range(3)}
    layout = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2], [2, 2, 2, 2]]
    src, src_gt = _paint(colours, layout)
    tgt, nf_label = _paint({0: (1, 0, 0), 1: (0, 1, 0), 2: (1, 1, 0)}, layout)
    uda_label = nf_label.clone()
    uda_label[nf_label == 2] = 1
    nf_logits = torch.nn.functional.one_hot(nf_label, 3).permute(0, 3, 1, 2).float()
    ctx = UDAStepContext(iteration=0, student=nn.Identity(),
                         source=dict(img=src, gt_semantic_seg=src_gt[:, None]),
                         target=dict(img=tgt), extras=dict(nfnet_logits=nf_logits))
    refiner = FISRefiner(similarity=ClassSimilarity(
        metric='prototype', num_classes=3,
        prototype=ClassPrototypeDistance(encoder=PixelFeatures(), num_classes=3)),
        k=1, exempt=(), dnis_target=dnis_target)
    out = refiner.refine(ctx, PseudoLabels(label=uda_label, weight=torch.ones(1, 4, 4)))
    return ctx.extras['fis_ranks'][0], out.label, nf_label, uda_label


def test_fis_prototype_dnis_on_nfnet_labels_routes_the_changed_class_to_nfnet():
    ranks, fused, nf_label, _ = _fis_case('nfnet')
    assert ranks[2] == 1
    assert torch.equal(fused, nf_label)


def test_fis_prototype_dnis_on_uda_labels_sees_what_the_uda_teacher_sees():
    # the UDA teacher's class 1 mixes green and yellow pixels: class 1 is least similar
    ranks, fused, nf_label, uda_label = _fis_case('uda')
    assert ranks[1] == 1
    assert torch.equal(fused, torch.where(nf_label == 1, nf_label, uda_label))


def test_fis_rejects_unknown_dnis_target():
    from mmseg.models.uda.parts.eglp.fis import FISRefiner
    with pytest.raises(ValueError, match='dnis_target'):
        FISRefiner(similarity=ClassSimilarity(metric='prototype', prototype=ClassPrototypeDistance(
            encoder=PixelFeatures())), dnis_target='student')
