import dataclasses

import pytest
import torch

from mmseg.models.uda.parts.pseudo_label import (PseudoLabeler,
                                                 pseudo_label_log,
                                                 restrict_to_valid_region)


def _logits():
    """B=2, C=2, 1x2 pixels. Class-1 margin 10 -> p~0.99995, 1 -> p~0.73."""
    margins = torch.tensor([[[10.0, 1.0]], [[-10.0, 10.0]]])  # [B, H, W]
    return torch.stack([torch.zeros_like(margins), margins], dim=1)


def test_labels_are_argmax():
    pseudo = PseudoLabeler()(_logits())
    assert pseudo.label.dtype == torch.int64
    assert pseudo.label.tolist() == [[[1, 1]], [[0, 1]]]
    assert pseudo.logits is not None


def test_batch_weight_is_fraction_of_confident_pixels():
    # confident (p >= 0.968): 3 of the 4 pixels of the batch
    weight = PseudoLabeler(0.968, 'batch')(_logits()).weight
    assert weight.shape == (2, 1, 2)
    assert weight.dtype == torch.float32
    assert torch.allclose(weight, torch.full((2, 1, 2), 0.75))


def test_log_has_confident_fraction_and_mean_weight():
    pseudo = PseudoLabeler(0.968, 'pixel')(_logits())
    pseudo.weight = restrict_to_valid_region(pseudo.weight, ignore_top=0,
                                             ignore_bottom=0)
    pseudo.weight[0] = 0  # e.g. a refiner or the valid region drops image 0
    log = pseudo_label_log(pseudo)
    assert log['pseudo.confident_fraction'].item() == pytest.approx(0.75)
    assert log['pseudo.weight'].item() == pytest.approx(0.5)
    # a refiner keeps the teacher's fraction while replacing the labels
    refined = dataclasses.replace(pseudo, label=pseudo.label.flip(0))
    log = pseudo_label_log(refined)
    assert log['pseudo.confident_fraction'].item() == pytest.approx(0.75)
    assert PseudoLabeler(None)(_logits()).confident_fraction.item() == 1.0


def test_image_weight_is_fraction_per_image():
    weight = PseudoLabeler(0.968, 'image')(_logits()).weight
    assert torch.allclose(weight[0], torch.full((1, 2), 0.5))
    assert torch.allclose(weight[1], torch.full((1, 2), 1.0))


def test_pixel_weight_is_indicator():
    weight = PseudoLabeler(0.968, 'pixel')(_logits()).weight
    assert weight.tolist() == [[[1.0, 0.0]], [[1.0, 1.0]]]


def test_no_threshold_gives_weight_one():
    weight = PseudoLabeler(None)(_logits()).weight
    assert torch.all(weight == 1.0)


def test_threshold_is_inclusive():
    logits = torch.zeros(1, 2, 1, 1)  # p_max = 0.5 exactly
    assert PseudoLabeler(0.5, 'pixel')(logits).weight.item() == 1.0


def test_weight_computed_without_host_sync(monkeypatch):

    def forbidden(*args, **kwargs):
        raise AssertionError('host synchronisation')

    monkeypatch.setattr(torch.Tensor, 'item', forbidden)
    monkeypatch.setattr(torch.Tensor, 'cpu', forbidden)
    monkeypatch.setattr(torch.Tensor, 'tolist', forbidden)
    for mode in ('batch', 'image', 'pixel'):
        PseudoLabeler(0.968, mode)(_logits())


def test_weight_is_writable_per_pixel():
    weight = PseudoLabeler()(_logits()).weight
    weight[0, 0, 0] = 0.0
    assert weight[1, 0, 1] == 0.75


def test_bad_arguments_rejected():
    with pytest.raises(ValueError, match='weight_mode'):
        PseudoLabeler(0.9, 'class')
    with pytest.raises(ValueError, match='pseudo_label.py'):
        PseudoLabeler()(torch.zeros(2, 3, 4))


def test_margin_rows_v1():
    weight = torch.ones(2, 6, 3)
    out = restrict_to_valid_region(weight, ignore_top=1, ignore_bottom=2)
    assert out[:, 0].sum() == 0 and out[:, 4:].sum() == 0
    assert torch.all(out[:, 1:4] == 1)
    assert torch.all(weight == 1)  # input untouched


def test_margin_rows_zero_is_noop():
    weight = torch.rand(2, 6, 3)
    assert torch.equal(restrict_to_valid_region(weight), weight)


def test_valid_mask_v2():
    weight = torch.full((2, 2, 2), 0.5)
    mask = torch.tensor([[[[1, 0], [1, 1]]], [[[0, 0], [1, 0]]]],
                        dtype=torch.uint8)
    out = restrict_to_valid_region(weight, valid_pseudo_mask=mask)
    assert out.dtype == torch.float32
    assert out.tolist() == [[[0.5, 0.0], [0.5, 0.5]], [[0.0, 0.0], [0.5, 0.0]]]
    out3 = restrict_to_valid_region(weight, valid_pseudo_mask=mask[:, 0])
    assert torch.equal(out, out3)


def test_region_arguments_checked():
    weight = torch.ones(1, 2, 2)
    mask = torch.ones(1, 1, 2, 2, dtype=torch.uint8)
    with pytest.raises(ValueError, match='exclusive'):
        restrict_to_valid_region(weight, mask, ignore_top=1)
    with pytest.raises(ValueError, match='does not match'):
        restrict_to_valid_region(weight, torch.ones(1, 1, 3, 2))
    with pytest.raises(ValueError, match='>= 0'):
        restrict_to_valid_region(weight, ignore_bottom=-1)
