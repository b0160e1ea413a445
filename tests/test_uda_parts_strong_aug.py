import kornia
import pytest
import torch

from mmseg.models.uda.parts.strong_aug import (StrongAugmentation,
                                               StrongAugParams,
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
    assert 0 <= a.color_jitter < 1 and 0 <= a.blur < 1
    assert a.sigma is None  # drawn per image at each call
    assert StrongAugmentation(blur=False).draw_params().blur == 0.0
    batch = StrongAugmentation(sigma_draw='batch').draw_params(
        torch.Generator().manual_seed(4))
    assert (batch.color_jitter, batch.blur) == (a.color_jitter, a.blur)
    assert 0.15 <= batch.sigma < 1.15
    with pytest.raises(ValueError, match='sigma_draw'):
        StrongAugmentation(sigma_draw='pixel')


def _blur_per_image(img, sigmas):
    kernel = (blur_kernel_size(img.shape[2]), blur_kernel_size(img.shape[3]))
    return torch.cat([
        kornia.filters.gaussian_blur2d(img[i:i + 1], kernel, (s, s))
        for i, s in enumerate(sigmas)
    ])


def test_blur_draws_one_sigma_per_image():
    """As the reference (one strong_transform call per image): the blur
    decision is shared, the sigma is U(0.15, 1.15) per image."""
    aug = StrongAugmentation()
    img = torch.randn(4, 3, 40, 64)
    params = StrongAugParams(color_jitter=0.0, blur=0.9)
    out = aug(img, NORM, params, torch.Generator().manual_seed(3))
    sigmas = StrongAugmentation.draw_sigmas(4,
                                            torch.Generator().manual_seed(3))
    assert sigmas.shape == (4, ) and len(set(sigmas.tolist())) == 4
    assert ((sigmas >= 0.15) & (sigmas < 1.15)).all()
    assert torch.allclose(out, _blur_per_image(img, sigmas.tolist()),
                          atol=1e-6)
    # a batch of one image blurred alike gives different results per image
    same = img[:1].expand(4, -1, -1, -1)
    blurred = aug(same, NORM, params, torch.Generator().manual_seed(3))
    assert all(not torch.equal(blurred[0], blurred[i]) for i in range(1, 4))
    # drawn from torch's global generator by default
    torch.manual_seed(8)
    first = aug(same, NORM, params)
    torch.manual_seed(8)
    assert torch.equal(first, aug(same, NORM, params))


def test_batch_sigma_draw_blurs_every_image_alike():
    """``sigma_draw='batch'`` (MIC's masked batch): one sigma per call."""
    aug = StrongAugmentation(sigma_draw='batch')
    params = aug.draw_params(torch.Generator().manual_seed(0))
    params = StrongAugParams(color_jitter=0.0, blur=0.9, sigma=params.sigma)
    same = torch.randn(1, 3, 40, 64).expand(3, -1, -1, -1)
    out = aug(same, NORM, params)
    assert torch.equal(out[0], out[1]) and torch.equal(out[0], out[2])
    assert torch.allclose(out, _blur_per_image(same, [params.sigma] * 3),
                          atol=1e-6)


def test_no_change_when_draws_say_so():
    aug = StrongAugmentation(color_jitter_probability=0.2)
    img = _img()
    params = StrongAugParams(0.2, 0.5, 1.0)  # both at boundary
    assert torch.equal(aug(img, NORM, params), img)


def test_color_jitter_matches_legacy_kornia():
    aug = StrongAugmentation(color_jitter_strength=0.2, blur=False)
    img = _img()
    original = img.clone()
    torch.manual_seed(11)
    out = aug(img, NORM, StrongAugParams(0.9, 0.0))
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
    out = aug(img, NORM, StrongAugParams(0.0, 0.6, 0.7))
    expected = kornia.filters.gaussian_blur2d(img, (1, 1), (0.7, 0.7))
    # 16 and 20 px give 1-px kernels; a larger image gives a real blur
    assert torch.allclose(out, expected)
    big = torch.randn(1, 3, 40, 64)
    out = aug(big, NORM, StrongAugParams(0.0, 0.6, 0.7))
    expected = kornia.filters.gaussian_blur2d(big, (3, 7), (0.7, 0.7))
    assert torch.allclose(out, expected)
    assert not torch.allclose(out, big, atol=1e-3)


def test_blur_keeps_constant_image():
    aug = StrongAugmentation()
    img = torch.full((1, 3, 40, 40), 0.25)
    out = aug(img, NORM, StrongAugParams(0.0, 0.9, 1.1))
    assert torch.allclose(out, img)


def test_rejects_non_rgb():
    with pytest.raises(ValueError, match='strong_aug.py'):
        StrongAugmentation()(torch.zeros(1, 1, 4, 4), NORM,
                             StrongAugParams(0.0, 0.0))
    with pytest.raises(KeyError, match='strong_aug.py'):
        StrongAugmentation()(torch.zeros(1, 3, 4, 4), dict(mean=[0] * 3),
                             StrongAugParams(0.9, 0.0))
