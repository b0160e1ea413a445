import kornia
import pytest
import torch

from mmseg.models.uda.parts.strong_aug import (StrongAugmentation,
                                               blur_kernel_size)

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


def _img():
    return (torch.rand(2, 3, 16, 20) * 255 - 120) / 58


@pytest.mark.parametrize('length, size', [(512, 51), (1024, 103), (16, 1),
                                          (20, 1), (30, 3), (40, 3), (50, 5),
                                          (64, 7)])
def test_kernel_size_formula(length, size):
    assert blur_kernel_size(length) == size
    assert size % 2 == 1


def test_draw_params_ranges_and_reproducible():
    aug = StrongAugmentation()
    a = aug.draw_params(torch.Generator().manual_seed(4))
    b = aug.draw_params(torch.Generator().manual_seed(4))
    assert a == b
    assert set(a) == {'color_jitter', 'blur', 'sigma'}
    assert 0 <= a['color_jitter'] < 1 and 0 <= a['blur'] < 1
    assert 0.15 <= a['sigma'] < 1.15
    assert StrongAugmentation(blur=False).draw_params()['blur'] == 0.0


def test_no_change_when_draws_say_so():
    aug = StrongAugmentation(color_jitter_probability=0.2)
    img = _img()
    params = dict(color_jitter=0.2, blur=0.5, sigma=1.0)  # both at boundary
    assert torch.equal(aug(img, NORM, params), img)


def test_color_jitter_matches_legacy_kornia():
    aug = StrongAugmentation(color_jitter_strength=0.2, blur=False)
    img = _img()
    original = img.clone()
    torch.manual_seed(11)
    out = aug(img, NORM, dict(color_jitter=0.9, blur=0.0, sigma=0.5))
    mean = torch.tensor(NORM['mean']).view(1, 3, 1, 1)
    std = torch.tensor(NORM['std']).view(1, 3, 1, 1)
    torch.manual_seed(11)
    jiggle = kornia.augmentation.ColorJiggle(0.2, 0.2, 0.2, 0.2, p=1.0)
    expected = (jiggle((img * std + mean) / 255) * 255 - mean) / std
    assert torch.allclose(out, expected, atol=1e-5)
    assert not torch.allclose(out, img, atol=1e-3)
    assert torch.equal(img, original)  # input untouched


def test_blur_matches_kornia_with_formula_kernel():
    aug = StrongAugmentation()
    img = _img()
    out = aug(img, NORM, dict(color_jitter=0.0, blur=0.6, sigma=0.7))
    expected = kornia.filters.gaussian_blur2d(img, (1, 1), (0.7, 0.7))
    # 16 and 20 px give 1-px kernels; a larger image gives a real blur
    assert torch.allclose(out, expected)
    big = torch.randn(1, 3, 40, 64)
    out = aug(big, NORM, dict(color_jitter=0.0, blur=0.6, sigma=0.7))
    expected = kornia.filters.gaussian_blur2d(big, (3, 7), (0.7, 0.7))
    assert torch.allclose(out, expected)
    assert not torch.allclose(out, big, atol=1e-3)


def test_blur_keeps_constant_image():
    aug = StrongAugmentation()
    img = torch.full((1, 3, 40, 40), 0.25)
    out = aug(img, NORM, dict(color_jitter=0.0, blur=0.9, sigma=1.1))
    assert torch.allclose(out, img)


def test_rejects_non_rgb():
    with pytest.raises(ValueError, match='strong_aug.py'):
        StrongAugmentation()(torch.zeros(1, 1, 4, 4), NORM,
                             dict(color_jitter=0.0, blur=0.0, sigma=0.5))
    with pytest.raises(KeyError, match='strong_aug.py'):
        StrongAugmentation()(torch.zeros(1, 3, 4, 4), dict(mean=[0] * 3),
                             dict(color_jitter=0.9, blur=0.0, sigma=0.5))
