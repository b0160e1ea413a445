import pytest
import torch

from mmseg.models.uda.parts.mic.masking import (BlockMaskGenerator,
                                                build_mask_generator)


def test_mask_shape_values_and_blocks():
    gen = BlockMaskGenerator(mask_ratio=0.5, mask_block_size=4)
    mask = gen.generate_mask(torch.zeros(3, 3, 16, 24),
                             torch.Generator().manual_seed(0))
    assert mask.shape == (3, 1, 16, 24)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    blocks = mask.view(3, 1, 4, 4, 6, 4).permute(0, 1, 2, 4, 3, 5)
    blocks = blocks.reshape(3, 1, 4, 6, 16)
    assert torch.all(blocks.amin(-1) == blocks.amax(-1))


def test_mask_equals_thresholded_uniform_grid():
    gen = BlockMaskGenerator(mask_ratio=0.7, mask_block_size=2)
    mask = gen.generate_mask(torch.zeros(2, 3, 4, 6),
                             torch.Generator().manual_seed(9))
    grid = torch.rand(2, 1, 2, 3, generator=torch.Generator().manual_seed(9))
    keep = (grid > 0.7).float()
    expected = keep.repeat_interleave(2, 2).repeat_interleave(2, 3)
    assert torch.equal(mask, expected)


def test_masked_fraction_matches_ratio():
    gen = BlockMaskGenerator(mask_ratio=0.7, mask_block_size=1)
    mask = gen.generate_mask(torch.zeros(1, 3, 128, 128),
                             torch.Generator().manual_seed(2))
    assert abs((1 - mask.mean().item()) - 0.7) < 0.02


def test_grid_uses_python_rounding():
    gen = BlockMaskGenerator(mask_ratio=0.5, mask_block_size=32)
    # round(48 / 32) = 2 cells of 24 rows; round(40 / 32) = 1 cell
    mask = gen.generate_mask(torch.zeros(64, 1, 48, 40),
                             torch.Generator().manual_seed(0))
    assert torch.all(mask[:, :, :24] == mask[:, :, :1])
    assert torch.all(mask[:, :, 24:] == mask[:, :, 24:25])
    assert torch.all(mask == mask[:, :, :, :1])
    assert not torch.equal(mask[:, :, 0], mask[:, :, 47])


def test_mask_image_zeroes_masked_blocks():
    gen = BlockMaskGenerator(mask_ratio=0.5, mask_block_size=2)
    img = torch.randn(2, 3, 8, 8)
    masked = gen.mask_image(img, torch.Generator().manual_seed(5))
    mask = gen.generate_mask(img, torch.Generator().manual_seed(5))
    assert torch.equal(masked, img * mask)
    assert 0 < mask.mean() < 1


def test_extreme_ratios():
    img = torch.randn(1, 3, 8, 8)
    assert torch.equal(BlockMaskGenerator(0.0, 2).mask_image(img), img)
    assert torch.all(BlockMaskGenerator(1.0, 2).mask_image(img) == 0)


def test_build_from_config_without_mutating_it():
    cfg = dict(type='block', mask_ratio=0.6, mask_block_size=32)
    gen = build_mask_generator(cfg)
    assert (gen.mask_ratio, gen.mask_block_size) == (0.6, 32)
    assert cfg['type'] == 'block'
    with pytest.raises(ValueError, match="'block'"):
        build_mask_generator(dict(type='random'))
    with pytest.raises(ValueError, match='mask_ratio'):
        BlockMaskGenerator(mask_ratio=1.5)
