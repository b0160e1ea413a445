"""DSRNSS feature prototype alignment: hand values, schedule, gradients."""
import math

import pytest
import torch
from torch import nn

from mmseg.models.uda.parts.context import (MixedBatch, PseudoLabels,
                                            UDAStepContext)
from mmseg.models.uda.parts.dsrnss.prototype_alignment import (
    FeaturePrototypeAlignment, prototype_contrast_loss)
from mmseg.registry import MODELS


def _nearest(y, out_h, out_w):
    in_h, in_w = len(y), len(y[0])
    return [[y[i * in_h // out_h][j * in_w // out_w] for j in range(out_w)]
            for i in range(out_h)]


def _protos(f, y, num_classes):
    """Masked means by loops; None for absent classes."""
    ch, h, w = len(f), len(f[0]), len(f[0][0])
    protos = []
    for c in range(num_classes):
        pix = [(i, j) for i in range(h) for j in range(w) if y[i][j] == c]
        protos.append(None if not pix else
                      [sum(f[k][i][j] for i, j in pix) / len(pix)
                       for k in range(ch)])
    return protos


def _cos(p, v):
    if p is None:
        return -1.0
    dot = sum(a * b for a, b in zip(p, v))
    norm = math.sqrt(sum(a * a for a in p)) * math.sqrt(sum(b * b for b in v))
    return dot / norm


def _ce_term(protos, f, y_full, weights, tau):
    """Weighted-mean CE of cosine logits, logits upsampled by nearest."""
    ch, h, w = len(f), len(f[0]), len(f[0][0])
    big_h, big_w = len(y_full), len(y_full[0])
    num, den = 0.0, 0.0
    for i in range(big_h):
        for j in range(big_w):
            c = y_full[i][j]
            if c == 255:
                continue
            fi, fj = i * h // big_h, j * w // big_w
            v = [f[k][fi][fj] for k in range(ch)]
            z = [_cos(p, v) / tau for p in protos]
            ce = math.log(sum(math.exp(t) for t in z)) - z[c]
            num += weights[c] * ce
            den += weights[c]
    return num / den if den else 0.0


def hand_loss(f_a, y_a, f_b, y_b, tau=0.1, num_classes=3, weights=None):
    weights = weights or [1.0] * num_classes
    h, w = len(f_a[0]), len(f_a[0][0])
    ya_s, yb_s = _nearest(y_a, h, w), _nearest(y_b, h, w)
    pa, pb = _protos(f_a, ya_s, num_classes), _protos(f_b, yb_s, num_classes)
    overlap = [weights[c] if pa[c] is not None and pb[c] is not None
               else 0.0 for c in range(num_classes)]
    l1 = _ce_term(pa, f_b, y_b, overlap, tau)
    l2 = _ce_term(pb, f_a, y_a, weights, tau)
    return 0.1 * l1 + 0.1 * l2


F_A = [[[1.0, 0.5], [-0.3, 0.2]], [[0.1, 0.9], [0.8, -0.4]]]
F_B = [[[0.7, -0.2], [0.4, 1.1]], [[0.3, 0.6], [-0.5, 0.2]]]
Y_A = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 255, 255], [2, 2, 1, 1]]
Y_B = [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [255, 0, 1, 1]]


def test_loss_equals_hand_computation():
    got = prototype_contrast_loss(
        torch.tensor(F_A), torch.tensor(Y_A), torch.tensor(F_B),
        torch.tensor(Y_B), tau=0.1, num_classes=3)
    assert got.item() == pytest.approx(hand_loss(F_A, Y_A, F_B, Y_B), 1e-5)


def test_classes_absent_in_one_domain_get_zero_weight():
    # y_b holds only class 3, absent from y_a: L1 is zero, only L2 remains
    y_b = [[3] * 4 for _ in range(4)]
    got = prototype_contrast_loss(
        torch.tensor(F_A), torch.tensor(Y_A), torch.tensor(F_B),
        torch.tensor(y_b).view(1, 4, 4), num_classes=4)
    h = len(F_B[0])
    pb = _protos(F_B, _nearest(y_b, h, h), 4)
    l2 = _ce_term(pb, F_A, Y_A, [1.0] * 4, 0.1)
    assert got.item() == pytest.approx(0.1 * l2, 1e-5)
    assert got.item() == pytest.approx(
        hand_loss(F_A, Y_A, F_B, y_b, num_classes=4), 1e-5)
    # a class-2 pixel of y_b that the resize to feature resolution drops:
    # class 2 is then absent from resized y_b and its pixel gets weight 0
    y_b2 = [row[:] for row in Y_B]
    y_b2[1][1] = 2
    partial = prototype_contrast_loss(
        torch.tensor(F_A), torch.tensor(Y_A), torch.tensor(F_B),
        torch.tensor(y_b2), num_classes=3)
    assert partial.item() == pytest.approx(
        hand_loss(F_A, Y_A, F_B, y_b2), 1e-5)
    y_b2[1][1] = 255
    ignored = prototype_contrast_loss(
        torch.tensor(F_A), torch.tensor(Y_A), torch.tensor(F_B),
        torch.tensor(y_b2), num_classes=3)
    assert partial.item() == pytest.approx(ignored.item(), 1e-6)


def test_class_weights_match_hand_computation():
    w = [1.0, 3.0, 1.0]
    boosted = prototype_contrast_loss(
        torch.tensor(F_A), torch.tensor(Y_A), torch.tensor(F_B),
        torch.tensor(Y_B), class_weights=torch.tensor(w), num_classes=3)
    assert boosted.item() == pytest.approx(
        hand_loss(F_A, Y_A, F_B, Y_B, weights=w), 1e-5)
    assert boosted.item() != pytest.approx(
        hand_loss(F_A, Y_A, F_B, Y_B), 1e-3)


class TinyStudent(nn.Module):
    """Stand-in segmentor: extract_feat returns two stages."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.last = nn.Conv2d(4, 6, 1)

    def extract_feat(self, img):
        x = self.stem(img)
        return [x, self.last(x)]


def _ctx(iteration, student, batch=3):
    label = torch.zeros(batch, 1, 8, 8, dtype=torch.long)
    label[:, :, 4:] = 1
    logits = torch.zeros(batch, 19, 8, 8)
    logits[:, 1, :, :4] = 5.0
    logits[:, 0, :, 4:] = 5.0
    src = {'img': torch.randn(batch, 3, 8, 8, requires_grad=True),
           'gt_semantic_seg': label}
    tgt = {'img': torch.randn(batch, 3, 8, 8, requires_grad=True)}
    mixed = MixedBatch(img=torch.randn(batch, 3, 8, 8, requires_grad=True),
                       label=label.flip(-1), weight=torch.ones(batch, 8, 8),
                       mask=torch.zeros(batch, 1, 8, 8))
    pseudo = PseudoLabels(label=logits.argmax(1),
                          weight=torch.ones(batch, 8, 8),
                          logits=logits)
    return UDAStepContext(iteration=iteration, source=src, target=tgt,
                          student=student, pseudo=pseudo, mixed=mixed)


def test_start_iter_and_value_of_total():
    fpa = MODELS.build(dict(type='FPA', start_iter=10, mix_weight=0.01))
    student = TinyStudent()
    assert fpa.losses(_ctx(9, student)) == []
    ctx = _ctx(10, student)
    (out, ) = fpa.losses(ctx)
    f_s = student.extract_feat(ctx.source['img'])[-1]
    f_t = student.extract_feat(ctx.target['img'])[-1]
    f_m = student.extract_feat(ctx.mixed.img)[-1]
    y_t = ctx.pseudo.logits.argmax(1)
    st = [prototype_contrast_loss(f_s[i], ctx.source['gt_semantic_seg'][i],
                                  f_t[i], y_t[i]) for i in range(2)]
    sm = [prototype_contrast_loss(f_s[i], ctx.source['gt_semantic_seg'][i],
                                  f_m[i], ctx.mixed.label[i])
          for i in range(2)]  # samples 0 and 1 only
    expected = sum(st) / 2 + 0.01 * sum(sm) / 2
    assert torch.allclose(out['loss_fpa'], expected, atol=1e-6)


@pytest.mark.parametrize('detach', [True, False])
def test_gradients_to_source_and_target(detach):
    fpa = FeaturePrototypeAlignment(start_iter=0, detach_target_feats=detach)
    ctx = _ctx(0, TinyStudent())
    (out, ) = fpa.losses(ctx)
    out['loss_fpa'].backward()
    assert ctx.source['img'].grad is not None
    assert ctx.source['img'].grad[:2].abs().sum() > 0
    assert ctx.mixed.img.grad is not None
    if detach:
        assert ctx.target['img'].grad is None
    else:
        assert ctx.target['img'].grad[:2].abs().sum() > 0


def test_feature_fn_and_ema_prototypes_state():
    calls = []

    def lr_branch(student, img):
        calls.append(img.shape)
        return student.extract_feat(img)[-1]

    fpa = FeaturePrototypeAlignment(start_iter=0, feature_fn=lr_branch,
                                    ema_prototypes=True, feat_channels=6)
    (out, ) = fpa.losses(_ctx(0, TinyStudent()))
    assert len(calls) == 3 and torch.isfinite(out['loss_fpa'])
    assert fpa.proto_seen[0, :2].all() and not fpa.proto_seen[0, 2:].any()
    assert set(fpa.state_dict()) == {'proto_memory', 'proto_seen'}
    before = fpa.proto_memory.clone()
    fpa.losses(_ctx(1, TinyStudent()))
    assert not torch.equal(before, fpa.proto_memory)


def test_small_class_boost_weights():
    assert FeaturePrototypeAlignment().class_weights is None
    w = FeaturePrototypeAlignment(small_class_boost=1.0).class_weights
    assert w[[0, 1, 2, 3, 4, 8, 9, 10]].eq(1).all()
    assert w[[5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18]].eq(2).all()
