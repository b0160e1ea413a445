import math

import pytest
import torch

from mmseg.models.uda.parts.context import PseudoLabels, UDAStepContext
from mmseg.models.uda.parts.mixing import (ClassMixer, class_mix,
                                           get_class_masks)
from mmseg.registry import MODELS


def _labels():
    """Sample 0 has classes {0, 1}; sample 1 has {2, 3, 255}."""
    first = torch.tensor([[0, 0, 1], [1, 1, 0]])
    second = torch.tensor([[2, 3, 255], [3, 3, 2]])
    return torch.stack([first, second]).unsqueeze(1)  # [2, 1, 2, 3]


def _classes_under(mask, label):
    return set(label[mask.bool()].tolist())


def test_batch_mode_reproduces_reference_choice():
    labels = _labels()
    masks = get_class_masks(labels, torch.Generator().manual_seed(3))
    gen = torch.Generator().manual_seed(3)
    batch_classes = torch.tensor([0, 1, 2, 3, 255])
    assert masks.shape == (2, 1, 2, 3) and masks.dtype == torch.float32
    for i in range(2):
        chosen = batch_classes[torch.randperm(5, generator=gen)[:3]]
        expected = torch.isin(labels[i], chosen).float()
        assert torch.equal(masks[i], expected)


def test_batch_mode_quirk_draws_from_whole_batch():
    labels = _labels()
    saw_empty_sample, saw_ignore = False, False
    for seed in range(40):
        masks = get_class_masks(labels, torch.Generator().manual_seed(seed))
        for i in range(2):
            taken = _classes_under(masks[i, 0], labels[i, 0])
            sample = set(labels[i].unique().tolist())
            saw_empty_sample |= not taken
            saw_ignore |= 255 in taken
            # every chosen class is taken completely
            for c in taken:
                assert torch.all(masks[i][labels[i] == c] == 1)
            assert taken <= sample
    assert saw_empty_sample and saw_ignore


def test_sample_mode_takes_half_of_own_classes():
    labels = _labels()
    for seed in range(20):
        masks = get_class_masks(labels,
                                torch.Generator().manual_seed(seed),
                                classes_from='sample')
        for i in range(2):
            sample = set(labels[i].unique().tolist()) - {255}
            taken = _classes_under(masks[i, 0], labels[i, 0])
            assert 255 not in taken
            assert taken <= sample
            assert len(taken) == math.ceil(len(sample) / 2)
            assert torch.all(masks[i][labels[i] == 255] == 0)
            for c in taken:
                assert torch.all(masks[i][labels[i] == c] == 1)


def test_generator_makes_masks_reproducible():
    labels = torch.randint(0, 19, (2, 1, 8, 8))
    a = get_class_masks(labels, torch.Generator().manual_seed(7))
    b = get_class_masks(labels, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_accepts_labels_without_channel_dim():
    labels = _labels()
    a = get_class_masks(labels, torch.Generator().manual_seed(1))
    b = get_class_masks(labels[:, 0], torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_bad_arguments_rejected():
    with pytest.raises(ValueError, match='classes_from'):
        get_class_masks(_labels(), classes_from='image')
    with pytest.raises(ValueError, match='mixing.py'):
        get_class_masks(torch.zeros(2, 2, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='classes_from'):
        ClassMixer(classes_from='image')


def _mix_inputs():
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    src_img = torch.full((1, 3, 2, 2), 2.0)
    tgt_img = torch.full((1, 3, 2, 2), -1.0)
    src_label = torch.tensor([[[[4, 5], [6, 7]]]])
    tgt_label = torch.tensor([[[8, 9], [10, 255]]])
    tgt_weight = torch.tensor([[[0.3, 0.4], [0.5, 0.6]]])
    return mask, src_img, tgt_img, src_label, tgt_label, tgt_weight


def test_class_mix_formulas():
    mixed = class_mix(*_mix_inputs())
    assert mixed.img.shape == (1, 3, 2, 2)
    assert mixed.img[0, :, 0, 0].tolist() == [2.0] * 3
    assert mixed.img[0, :, 0, 1].tolist() == [-1.0] * 3
    assert mixed.label.dtype == torch.int64
    assert mixed.label.tolist() == [[[[4, 9], [10, 7]]]]
    assert torch.allclose(mixed.weight, torch.tensor([[[1.0, 0.4], [0.5,
                                                                    1.0]]]))
    assert torch.equal(mixed.mask, _mix_inputs()[0])


def test_class_mixer_from_context_and_registry():
    mixer = MODELS.build(dict(type='ClassMix', classes_from='sample'))
    assert isinstance(mixer, ClassMixer)
    labels = _labels()
    src_img, tgt_img = torch.randn(2, 3, 2, 3), torch.randn(2, 3, 2, 3)
    pseudo = PseudoLabels(label=torch.randint(0, 4, (2, 2, 3)),
                          weight=torch.rand(2, 2, 3))
    ctx = UDAStepContext(iteration=0,
                         source=dict(img=src_img, gt_semantic_seg=labels),
                         target=dict(img=tgt_img),
                         student=torch.nn.Identity(),
                         pseudo=pseudo)
    from_ctx = mixer(ctx, torch.Generator().manual_seed(5))
    masks = get_class_masks(labels, torch.Generator().manual_seed(5), 'sample')
    expected = class_mix(masks, src_img, tgt_img, labels, pseudo.label,
                         pseudo.weight)
    for field in ('img', 'label', 'weight', 'mask'):
        assert torch.equal(getattr(from_ctx, field), getattr(expected, field))
    ctx.pseudo = None
    with pytest.raises(ValueError, match='ctx.pseudo'):
        mixer(ctx)
