"""PMS halves/labels and AMS alternation."""
import pytest
import torch

from mmseg.models.uda.parts.eglp.prompt_mixing import (AlternateMask,
                                                       prompt_masks,
                                                       prompt_mixture)


def _inputs(b=4, h=4, w=8):
    prompt = torch.ones(b, 3, h, w)
    tgt = -torch.ones(b, 3, h, w)
    prompt_gt = torch.full((b, 1, h, w), 3)
    prompt_gt[:, :, 0, 0] = 255
    fused = torch.full((b, h, w), 7)
    return prompt, prompt_gt, tgt, fused


def test_prompt_mixture_halves_and_labels():
    g = torch.Generator().manual_seed(0)
    prompt, prompt_gt, tgt, fused = _inputs(b=16)
    img, label, mask = prompt_mixture(prompt, prompt_gt, tgt, fused, g)
    assert label.shape == (16, 1, 4, 8) and label.dtype == torch.int64
    sides = set()
    for b in range(16):
        left = bool(mask[b, 0, 0, 0])
        sides.add(left)
        prompt_cols = slice(0, 4) if left else slice(4, 8)
        other_cols = slice(4, 8) if left else slice(0, 4)
        assert (mask[b, 0, :, prompt_cols] == 1).all()
        assert (mask[b, 0, :, other_cols] == 0).all()
        assert (img[b, :, :, prompt_cols] == 1).all()
        assert (img[b, :, :, other_cols] == -1).all()
        assert (label[b, 0, :, other_cols] == 7).all()
        expected = prompt_gt[b, 0, :, prompt_cols]
        assert torch.equal(label[b, 0, :, prompt_cols], expected)
    assert sides == {True, False}


def test_prompt_mixture_is_reproducible_with_generator():
    prompt, prompt_gt, tgt, fused = _inputs()
    a = prompt_mixture(prompt, prompt_gt, tgt, fused,
                       torch.Generator().manual_seed(3), (0.3, 0.7))
    b = prompt_mixture(prompt, prompt_gt, tgt, fused,
                       torch.Generator().manual_seed(3), (0.3, 0.7))
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_random_split_stays_in_range():
    g = torch.Generator().manual_seed(0)
    masks = prompt_masks(64, 1, 100, g, split=(0.3, 0.7))
    left = masks[:, 0, 0, 0] == 1
    bounds = torch.where(left, masks.sum((1, 2, 3)),
                         100 - masks.sum((1, 2, 3)))
    assert bounds.min() >= 30 and bounds.max() <= 70
    assert bounds.unique().numel() > 5  # not a fixed split


def test_ams_parity_alternates_by_iteration():
    ams = AlternateMask('parity')
    assert [ams.should_mask(t) for t in range(5)] == \
        [False, True, False, True, False]


def test_ams_random_uses_probability():
    ams = AlternateMask('random', p=0.5)
    g = torch.Generator().manual_seed(0)
    draws = [ams.should_mask(0, g) for _ in range(400)]
    assert 150 < sum(draws) < 250
    assert not any(AlternateMask('random', p=0.0).should_mask(1, g)
                   for _ in range(20))
    with pytest.raises(ValueError, match='mode'):
        AlternateMask('odd')


def test_ams_block_mask_zeroes_blocks():
    ams = AlternateMask('parity')
    img = torch.ones(2, 3, 128, 128)
    masked = ams(img, torch.Generator().manual_seed(0))
    blocks = masked[:, 0, ::64, ::64]
    assert set(masked.unique().tolist()) <= {0.0, 1.0}
    # every 64x64 block is constant
    for y in (0, 64):
        for x in (0, 64):
            blk = masked[:, :, y:y + 64, x:x + 64]
            assert (blk == blocks[:, None, y // 64, x // 64, None, None]).all()
