"""UDADataset pairing and rare class sampling; the seeded sampler and
seg_collate."""
import itertools
import os

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import mmseg.datasets.transforms.loading as loading
from mmseg.datasets.class_stats import sample_stats, save_class_stats
from mmseg.datasets.collate import seg_collate
from mmseg.datasets.rare_class_sampling import (RareClassSampler,
                                                class_probabilities)
from mmseg.datasets.samplers import SeededInfiniteSampler
from mmseg.datasets.uda_dataset import UDADataset

CROP = 8
PIPE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='RandomCrop', crop_size=(CROP, CROP)),
        dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
TGT = [dict(type='LoadImageFromFile'),
       dict(type='RandomCrop', crop_size=(CROP, CROP)),
       dict(type='PackSegInputs')]


def make_source(root, n=6, rare_every=3, rare_cls=5, size=16):
    """n images; every ``rare_every``-th has a 4x4 patch of ``rare_cls`` in
    a corner (so random crops often miss it); stats files written."""
    stats = []
    for d in ('img', 'gt'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for i in range(n):
        img = np.full((size, size, 3), i * 10, np.uint8)
        label = np.zeros((size, size), np.uint8)
        label[size // 2:] = 1
        if i % rare_every == 0:
            label[:4, :4] = rare_cls
        cv2.imwrite(os.path.join(root, 'img', f's{i}.png'), img)
        path = os.path.join(root, 'gt', f's{i}_labelTrainIds.png')
        Image.fromarray(label).save(path)
        stats.append(sample_stats(label, path))
    save_class_stats(root, stats)


def make_target(root, n=4):
    os.makedirs(os.path.join(root, 'img'), exist_ok=True)
    for i in range(n):
        cv2.imwrite(os.path.join(root, 'img', f't{i}.png'),
                    np.full((16, 16, 3), 100 + i, np.uint8))


def uda(tmp_path, rcs=None, prompt=False, sync=None):
    src, tgt = str(tmp_path / 'src'), str(tmp_path / 'tgt')
    if not os.path.isdir(src):
        make_source(src)
        make_target(tgt)
    common = dict(type='PromptDataset', img_dir='img', pipeline=PIPE)
    return UDADataset(
        source=dict(common, data_root=src, ann_dir='gt'),
        target=dict(common, data_root=tgt, ann_dir=None, pipeline=TGT),
        prompt=dict(common, data_root=src, ann_dir='gt') if prompt else None,
        rare_class_sampling=rcs, sync_crop_size=sync)


def test_pairs_source_and_target_with_source_length(tmp_path):
    ds = uda(tmp_path, prompt=True)
    assert len(ds) == 6
    sample = ds[(2, 7)]
    assert set(sample) == {'source', 'target', 'prompt'}
    assert sample['source']['img_metas']['ori_filename'] == 's2.png'
    assert 'gt_semantic_seg' in sample['source']
    assert 'gt_semantic_seg' not in sample['target']
    targets = {ds[(2, s)]['target']['img_metas']['ori_filename']
               for s in range(20)}
    assert len(targets) > 1  # the target index is drawn per sample


def test_samples_are_deterministic_per_index_and_seed(tmp_path):
    ds = uda(tmp_path, prompt=True)
    a, b, c = ds[(1, 11)], ds[(1, 11)], ds[(1, 12)]
    for part in ('source', 'target', 'prompt'):
        assert torch.equal(a[part]['img'], b[part]['img'])
    assert any(not torch.equal(a[p]['img'], c[p]['img'])
               for p in ('source', 'target', 'prompt'))


def test_metainfo_mismatch_is_refused(tmp_path):
    ds = uda(tmp_path)
    ds.target.PALETTE = [[0, 0, 0]] * 19
    with pytest.raises(ValueError, match='target classes/palette'):
        ds._check_compatible()


def test_rcs_probabilities_follow_the_softmax_formula():
    stats = [{'0': 90, '1': 9, 'file': 'a'}, {'2': 1, 'file': 'b'}]
    classes, probs = class_probabilities(stats, 0.1)
    f = np.array([0.9, 0.09, 0.01])
    expected = np.exp((1 - f) / 0.1) / np.exp((1 - f) / 0.1).sum()
    assert classes == [0, 1, 2]
    np.testing.assert_allclose(probs, expected)


def rare_share(tmp_path, temp):
    make_source(str(tmp_path))
    sampler = RareClassSampler(str(tmp_path), {
        f's{i}_labelTrainIds.png': i for i in range(6)}, class_temp=temp,
        min_pixels=4, min_crop_ratio=0)
    rng = np.random.default_rng(0)
    return np.mean([sampler.draw(rng)[0] == 5 for _ in range(400)])


def test_rcs_draws_rare_classes_more_often_as_temperature_falls(tmp_path):
    shares = [rare_share(tmp_path, t) for t in (10.0, 0.5, 0.1)]
    assert shares[0] < shares[1] < shares[2]
    assert shares[2] > 0.6


def test_rcs_only_draws_files_holding_the_class(tmp_path):
    make_source(str(tmp_path))
    sampler = RareClassSampler(str(tmp_path), {
        f's{i}_labelTrainIds.png': i for i in range(6)}, min_pixels=4)
    assert sampler.indices_with_class[5] == [0, 3]
    with pytest.raises(ValueError, match='class 5'):
        RareClassSampler(str(tmp_path), {
            f's{i}_labelTrainIds.png': i for i in range(6)}, min_pixels=16)


def test_rcs_decodes_once_and_redraws_only_the_crop(tmp_path, monkeypatch):
    ds = uda(tmp_path, rcs=dict(class_temp=0.01, min_pixels=4,
                                min_crop_ratio=2.0))  # needs > 8 px of it
    decoded = []
    real = loading.read_image
    monkeypatch.setattr(loading, 'read_image',
                        lambda f: decoded.append(f) or real(f))
    found = 0
    for seed in range(20):
        decoded.clear()
        sample = ds[(0, seed)]
        assert len(decoded) == 2  # one source, one target image
        found += int((sample['source']['gt_semantic_seg'] == 5).sum() > 8)
    # A random 8x8 crop of 16x16 holds > 8 px of the 4x4 corner patch with
    # probability 4/81; up to eleven crops per sample make it far likelier.
    plain = uda(tmp_path, rcs=dict(class_temp=0.01, min_pixels=4,
                                   min_crop_ratio=0))
    found_plain = sum(
        int((plain[(0, s)]['source']['gt_semantic_seg'] == 5).sum() > 8)
        for s in range(20))
    assert found >= found_plain + 4, (found, found_plain)


def test_sync_crop_cuts_the_same_window(tmp_path):
    ds = uda(tmp_path, sync=(4, 6))
    sample = ds[(0, 1)]
    assert sample['source']['img'].shape == (3, 4, 6)
    assert sample['target']['img'].shape == (3, 4, 6)
    assert sample['source']['gt_semantic_seg'].shape == (1, 4, 6)


def test_sampler_is_deterministic_resumable_and_split_over_ranks(monkeypatch):
    data = list(range(5))
    take = lambda s, n: list(itertools.islice(iter(s), n))
    stream = take(SeededInfiniteSampler(data, seed=3), 12)
    assert stream == take(SeededInfiniteSampler(data, seed=3), 12)
    assert sorted(i for i, _ in stream[:5]) == data  # a permutation per epoch
    assert len({s for _, s in stream}) == 12
    assert stream != take(SeededInfiniteSampler(data, seed=4), 12)
    resumed = SeededInfiniteSampler(data, seed=3)
    resumed.set_start(7)
    assert take(resumed, 5) == stream[7:12]
    ranks = []
    for rank in (0, 1):
        monkeypatch.setattr('mmseg.datasets.samplers.get_dist_info',
                            lambda r=rank: (r, 2))
        ranks.append(take(SeededInfiniteSampler(data, seed=3), 6))
    assert ranks[0] == stream[0::2] and ranks[1] == stream[1::2]


def test_seg_collate_stacks_tensors_and_lists_metas():
    sample = lambda v: {'img': torch.full((3, 2, 2), v),
                        'img_metas': {'filename': str(v)}}
    batch = seg_collate([{'source': sample(0), 'target': sample(1)},
                         {'source': sample(2), 'target': sample(3)}])
    assert batch['source']['img'].shape == (2, 3, 2, 2)
    assert batch['target']['img_metas'] == [{'filename': '1'},
                                            {'filename': '3'}]
    with pytest.raises(ValueError, match="'img'"):
        seg_collate([{'img': torch.zeros(3, 2, 2)},
                     {'img': torch.zeros(3, 2, 3)}])


def test_dataloader_from_mmengine_config(tmp_path):
    from mmengine.runner import Runner
    from mmseg.utils import register_all_modules
    register_all_modules()
    ds = uda(tmp_path)
    loader = Runner.build_dataloader(dict(
        batch_size=2, num_workers=0, dataset=ds,
        sampler=dict(type='SeededInfiniteSampler', shuffle=True),
        collate_fn=dict(type='mmseg.seg_collate')), seed=5)
    batch = next(iter(loader))
    assert batch['source']['img'].shape == (2, 3, CROP, CROP)
    assert loader.sampler.seed == 5
