"""Pipeline transforms: geometry, label handling, randomness from rng."""
import cv2
import numpy as np
import pytest
import torch

from mmseg.datasets.transforms.crop import RandomCrop
from mmseg.datasets.transforms.flip import RandomFlip
from mmseg.datasets.transforms.loading import (CorruptFileError,
                                               LoadAnnotations,
                                               LoadImageFromFile)
from mmseg.datasets.transforms.normalize import Normalize, Pad
from mmseg.datasets.transforms.pack import PackSegInputs
from mmseg.datasets.transforms.photometric import PhotoMetricDistortion
from mmseg.datasets.transforms.pseudo_mask import AddValidPseudoMask
from mmseg.datasets.transforms.resize import Resize, rescale_size


def make_results(h=50, w=100, seed=0, with_mask=False):
    img = np.random.default_rng(1).integers(0, 255, (h, w, 3), np.uint8)
    seg = (np.arange(h * w).reshape(h, w) % 19).astype(np.uint8)
    results = dict(img=img, gt_semantic_seg=seg,
                   seg_fields=['gt_semantic_seg'],
                   rng=np.random.default_rng(seed), img_shape=img.shape,
                   ori_shape=img.shape)
    if with_mask:
        results = AddValidPseudoMask([2, 3, 4, 5])(results)
    return results


def test_rescale_size_is_min_of_long_and_short_ratios():
    assert rescale_size(100, 50, (60, 20)) == (40, 20)  # short side limits
    assert rescale_size(100, 50, (60, 40)) == (60, 30)  # long side limits
    assert rescale_size(2048, 1024, (1024, 512)) == (1024, 512)


def test_resize_keep_ratio_resizes_image_and_labels_nearest():
    results = Resize(img_scale=(60, 20))(make_results(with_mask=True))
    assert results['img'].shape == (20, 40, 3)
    assert results['gt_semantic_seg'].shape == (20, 40)
    assert results['valid_pseudo_mask'].shape == (20, 40)
    assert set(np.unique(results['gt_semantic_seg'])) <= set(range(19))
    np.testing.assert_allclose(results['scale_factor'], [0.4] * 4)


def test_resize_without_keep_ratio_is_exact():
    results = Resize(img_scale=(30, 70), keep_ratio=False)(make_results())
    assert results['img'].shape[:2] == (70, 30)


def test_resize_ratio_range_draws_from_rng():
    sizes = {Resize(img_scale=(100, 50), ratio_range=(0.5, 2.0))(
        make_results(seed=s))['img'].shape for s in range(5)}
    again = {Resize(img_scale=(100, 50), ratio_range=(0.5, 2.0))(
        make_results(seed=s))['img'].shape for s in range(5)}
    assert sizes == again and len(sizes) > 1
    assert all(25 <= h <= 100 for h, _, _ in sizes)


def test_random_crop_cuts_image_and_all_seg_fields_at_the_same_box():
    results = make_results(with_mask=True)
    img, seg = results['img'].copy(), results['gt_semantic_seg'].copy()
    results = RandomCrop((16, 24))(results)
    y1, y2, x1, x2 = results['crop_box']
    assert results['img'].shape == (16, 24, 3)
    np.testing.assert_array_equal(results['img'], img[y1:y2, x1:x2])
    np.testing.assert_array_equal(results['gt_semantic_seg'],
                                  seg[y1:y2, x1:x2])
    assert results['valid_pseudo_mask'].shape == (16, 24)


def test_random_crop_cat_max_ratio_redraws_dominated_crops():
    seg = np.zeros((100, 100), np.uint8)
    seg[:, 90:] = 1  # class 1 only in a thin right stripe
    mixed = lambda crop: np.bincount(crop.ravel(), minlength=2).max() / \
        crop.size < 0.75
    hits_plain, hits_cat = 0, 0
    for s in range(30):
        base = dict(img=np.zeros((100, 100, 3), np.uint8), seg_fields=[
            'gt_semantic_seg'])
        plain = RandomCrop((20, 20))(dict(
            base, gt_semantic_seg=seg, rng=np.random.default_rng(s)))
        cat = RandomCrop((20, 20), cat_max_ratio=0.75)(dict(
            base, gt_semantic_seg=seg, rng=np.random.default_rng(s)))
        hits_plain += int(mixed(plain['gt_semantic_seg']))
        hits_cat += int(mixed(cat['gt_semantic_seg']))
    assert hits_cat >= hits_plain + 8  # re-draws find mixed crops more often


def test_random_flip_flips_all_fields_and_prob_zero_draws_nothing():
    results = make_results(with_mask=True)
    img, seg, mask = (results['img'].copy(), results['gt_semantic_seg'].copy(),
                      results['valid_pseudo_mask'].copy())
    flipped = RandomFlip(prob=1.0)(results)
    np.testing.assert_array_equal(flipped['img'], img[:, ::-1])
    np.testing.assert_array_equal(flipped['gt_semantic_seg'], seg[:, ::-1])
    np.testing.assert_array_equal(flipped['valid_pseudo_mask'], mask[:, ::-1])
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    out = RandomFlip(prob=0.0)(dict(make_results(), rng=rng))
    assert out['flip'] is False and rng.bit_generator.state == state


def test_photometric_distortion_is_seeded_and_leaves_input_untouched():
    img = make_results()['img']
    keep = img.copy()
    outs = [PhotoMetricDistortion()(dict(img=img, rng=np.random.default_rng(
        s)))['img'] for s in (3, 3, 4)]
    np.testing.assert_array_equal(img, keep)
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].dtype == np.uint8 and not np.array_equal(outs[0], outs[2])


def test_normalize_converts_bgr_to_rgb_then_standardises():
    img = np.zeros((2, 2, 3), np.uint8)
    img[..., 0] = 10  # blue
    out = Normalize(mean=[1, 2, 3], std=[1, 2, 4], to_rgb=True)(dict(img=img))
    np.testing.assert_allclose(out['img'][0, 0], [-1, -1, (10 - 3) / 4])
    assert out['img'].dtype == np.float32


def test_pad_fills_labels_with_ignore_and_mask_with_zero():
    results = make_results(h=10, w=12, with_mask=True)
    out = Pad(size=(16, 16), pad_val=0, seg_pad_val=255)(results)
    assert out['img'].shape == (16, 16, 3) and out['pad_shape'][:2] == (16, 16)
    assert (out['gt_semantic_seg'][10:] == 255).all()
    assert (out['valid_pseudo_mask'][:, 12:] == 0).all()
    with pytest.raises(ValueError, match='cannot pad'):
        Pad(size=(8, 8))(make_results(h=10, w=12))


def test_valid_pseudo_mask_uses_the_image_shape_and_margins():
    mask = AddValidPseudoMask([1, 2, 3, 4])(dict(
        img=np.zeros((10, 20, 3), np.uint8)))['valid_pseudo_mask']
    assert mask.shape == (10, 20)
    assert mask[1:8, 3:16].all() and mask.sum() == 7 * 13


def test_pack_seg_inputs_types_and_metas():
    results = make_results(with_mask=True)
    results.update(filename='a.png', ori_filename='a.png', seg_map_path=None)
    sample = PackSegInputs()(Normalize([0] * 3, [1] * 3)(results))
    assert sample['img'].shape == (3, 50, 100)
    assert sample['img'].dtype == torch.float32
    assert sample['gt_semantic_seg'].dtype == torch.int64
    assert sample['gt_semantic_seg'].shape == (1, 50, 100)
    assert sample['valid_pseudo_mask'].dtype == torch.uint8
    assert 'rng' not in sample and sample['img_metas']['flip'] is False
    assert sample['img_metas']['filename'] == 'a.png'


def test_load_image_errors_name_the_file(tmp_path):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n not really')
    with pytest.raises(CorruptFileError, match='broken.png'):
        LoadImageFromFile()(dict(filename=str(bad)))
    with pytest.raises(FileNotFoundError, match='absent.png'):
        LoadImageFromFile()(dict(filename=str(tmp_path / 'absent.png')))


def test_load_annotations_checks_size_against_original_shape(tmp_path):
    img = np.zeros((8, 10, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'x.png'), img)
    cv2.imwrite(str(tmp_path / 'x_gt.png'), np.ones((8, 10), np.uint8))
    results = LoadImageFromFile()(dict(
        filename=str(tmp_path / 'x.png'),
        seg_map_path=str(tmp_path / 'x_gt.png')))
    results = Resize(img_scale=(5, 4))(results)  # resize before labels
    results = LoadAnnotations()(results)
    assert results['gt_semantic_seg'].shape == (8, 10)
    assert results['img'].shape[:2] == (4, 5)
