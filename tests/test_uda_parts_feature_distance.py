import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmseg.models.uda.parts.feature_distance import (ImageNetFeatureDistance,
                                                     downscale_label_ratio)


class TinySegmentor(nn.Module):
    """Stand-in segmentor: stride-2 conv - BN - dropout as its backbone."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 2, stride=2)
        self.bn = nn.BatchNorm2d(2)
        self.dropout = nn.Dropout(0.5)

    def extract_feat(self, img):
        return [img, self.dropout(self.bn(self.conv(img)))]


def test_downscale_label_ratio_hand_example():
    gt = torch.tensor([[1, 1, 2, 2], [1, 1, 2, 5], [255, 255, 4, 4],
                       [255, 3, 6, 6]]).view(1, 1, 4, 4)
    out = downscale_label_ratio(gt, 2, 0.75, n_classes=19)
    # all 1 | 3/4 of 2 | 3/4 ignore | 2/4 of 4 (< 0.75)
    assert out.tolist() == [[[[1, 2], [255, 255]]]]
    assert out.dtype == torch.int64
    assert gt[0, 0, 2, 0] == 255  # input untouched
    lenient = downscale_label_ratio(gt, 2, 0.5, n_classes=19)
    assert lenient.tolist() == [[[[1, 2], [255, 4]]]]


def test_downscale_label_ratio_shape_checked():
    with pytest.raises(ValueError, match='feature_distance.py'):
        downscale_label_ratio(torch.zeros(1, 4, 4, dtype=torch.long), 2, 0.75,
                              19)


def _fd(**kwargs):
    return ImageNetFeatureDistance(TinySegmentor(), **kwargs)


def _hand_features():
    """Student/ImageNet features [1, 2, 2, 2] and a 4x4 gt -> 2x2 grid."""
    student = torch.tensor(
        [[[[3.0, 1.0], [0.0, 2.0]], [[4.0, 1.0], [1.0, 2.0]]]],
        requires_grad=True)
    imnet = torch.tensor([[[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0,
                                                                   2.0]]]])
    # distances: [[5, sqrt2], [1, 2]]
    gt = torch.tensor([[13, 13, 0, 0], [13, 13, 0, 0], [11, 11, 6, 6],
                       [11, 11, 6, 255]]).view(1, 1, 4, 4)
    return student, imnet, gt


def test_loss_equals_hand_computation():
    student, imnet, gt = _hand_features()
    fd = _fd(lambda_=0.5)
    loss = fd.loss(torch.zeros(1, 3, 4, 4),
                   gt, [student],
                   feature_fn=lambda model, img: [imnet])
    # thing cells: (0,0) car 13 and (1,0) person 11; (1,1) is 3/4 class 6
    # (a thing too); (0,1) road is not.
    expected = 0.5 * (5.0 + 1.0 + 2.0) / 3
    value = loss['loss_imnet_feat_dist']
    assert value.item() == pytest.approx(expected, rel=1e-6)
    value.backward()
    assert student.grad[0, :, 0, 1].abs().sum() == 0  # not a thing cell
    assert student.grad[0, :, 0, 0].abs().sum() > 0


def test_loss_without_classes_is_mean_over_all_cells():
    student, imnet, gt = _hand_features()
    fd = _fd(lambda_=1.0, classes=None)
    loss = fd.loss(torch.zeros(1, 3, 4, 4),
                   gt, [student],
                   feature_fn=lambda model, img: [imnet])
    expected = (5.0 + math.sqrt(2.0) + 1.0 + 2.0) / 4
    assert loss['loss_imnet_feat_dist'].item() == pytest.approx(expected)


def test_empty_mask_gives_zero_with_graph():
    student, imnet, _ = _hand_features()
    gt = torch.zeros(1, 1, 4, 4, dtype=torch.long)  # road only
    loss = _fd().loss(torch.zeros(1, 3, 4, 4),
                      gt, [student],
                      feature_fn=lambda model, img: [imnet])
    value = loss['loss_imnet_feat_dist']
    assert value.item() == 0.0 and value.requires_grad
    value.backward()
    assert torch.all(student.grad == 0)


def test_empty_mask_reference_nan():
    student, imnet, _ = _hand_features()
    gt = torch.zeros(1, 1, 4, 4, dtype=torch.long)
    loss = _fd(nan_when_empty=True).loss(torch.zeros(1, 3, 4, 4),
                                         gt, [student],
                                         feature_fn=lambda model, img: [imnet])
    assert torch.isnan(loss['loss_imnet_feat_dist'])


def test_nan_mode_matches_default_when_not_empty():
    student, imnet, gt = _hand_features()
    args = (torch.zeros(1, 3, 4, 4), gt, [student])
    fn = lambda model, img: [imnet]  # noqa: E731
    a = _fd(nan_when_empty=True).loss(*args, feature_fn=fn)
    b = _fd().loss(*args, feature_fn=fn)
    assert torch.allclose(a['loss_imnet_feat_dist'], b['loss_imnet_feat_dist'])


def test_imnet_model_frozen_and_in_eval():
    student = TinySegmentor()
    fd = ImageNetFeatureDistance(student)
    fd.train()
    assert not fd.imnet_model.training
    assert not any(p.requires_grad for p in fd.imnet_model.parameters())
    assert all(p.requires_grad for p in student.parameters())
    assert not any(p.requires_grad for p in fd.parameters())


def test_uses_extract_feat_of_frozen_copy():
    student = TinySegmentor()
    fd = ImageNetFeatureDistance(student, classes=None)
    img = torch.randn(2, 3, 8, 8)
    student.train()
    feats = student.extract_feat(img)
    loss = fd.loss(img, torch.zeros(2, 1, 8, 8, dtype=torch.long), feats)
    ref = fd.imnet_model.eval().extract_feat(img)[-1]
    expected = 0.005 * torch.norm(feats[-1] - ref, dim=1).mean()
    assert torch.allclose(loss['loss_imnet_feat_dist'], expected)
    loss['loss_imnet_feat_dist'].backward()
    assert student.conv.weight.grad is not None
    assert all(p.grad is None for p in fd.imnet_model.parameters())


def test_feature_fn_at_construction_and_reset():
    student = TinySegmentor()
    calls = []

    def half_scale(model, img):
        calls.append(img.shape[-1])
        return model.extract_feat(F.interpolate(img, scale_factor=0.5))

    fd = ImageNetFeatureDistance(student, feature_fn=half_scale)
    img = torch.randn(1, 3, 8, 8)
    feats = student.extract_feat(F.interpolate(img, scale_factor=0.5))
    fd.loss(img, torch.full((1, 1, 8, 8), 13), feats)
    assert calls == [8]
    with torch.no_grad():
        student.conv.weight.add_(1.0)
    assert not torch.equal(fd.imnet_model.conv.weight, student.conv.weight)
    fd.reset(student)
    assert torch.equal(fd.imnet_model.conv.weight, student.conv.weight)
    assert not fd.imnet_model.conv.weight.requires_grad


def test_shape_mismatch_rejected():
    fd = _fd()
    with pytest.raises(ValueError, match='feature_distance.py'):
        fd.loss(torch.zeros(1, 3, 4, 4),
                torch.zeros(1, 1, 4, 4), [torch.zeros(1, 2, 2, 2)],
                feature_fn=lambda model, img: [torch.zeros(1, 3, 2, 2)])
