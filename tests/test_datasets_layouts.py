"""Every dataset class reads its real folder layout through a pipeline."""
import os

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmseg.datasets.acdc import ACDCDataset
from mmseg.datasets.bdd100k_night import BDD100kNightDataset
from mmseg.datasets.cityscapes import CityscapesDataset
from mmseg.datasets.dark_zurich import DarkZurichDataset
from mmseg.datasets.gta import GTADataset
from mmseg.datasets.nightcity import NightCityDataset
from mmseg.datasets.nighttime_driving import NighttimeDrivingDataset
from mmseg.datasets.prompt import PromptDataset
from mmseg.datasets.synthia import SynthiaDataset
from mmseg.datasets.test_split import select_test_split
from mmseg.registry import DATASETS

H, W = 12, 16
NORM = dict(type='Normalize', mean=[0, 0, 0], std=[1, 1, 1])
TRAIN = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
         dict(type='Resize', img_scale=(32, 24)),
         dict(type='RandomCrop', crop_size=(8, 8)),
         dict(type='RandomFlip', prob=0.5), NORM,
         dict(type='Pad', size=(8, 8)), dict(type='PackSegInputs')]
TEST = [dict(type='LoadImageFromFile'), dict(type='Resize', img_scale=(8, 6)),
        dict(type='LoadAnnotations'), NORM, dict(type='PackSegInputs')]


def put(root, rel_img, rel_label=None, value=1, ext_img=None):
    """Write a tiny image (and its train-id label) under ``root``."""
    path = os.path.join(root, rel_img)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = np.full((H, W, 3), 40 * value % 255, np.uint8)
    cv2.imwrite(path, img)
    if rel_label:
        lpath = os.path.join(root, rel_label)
        os.makedirs(os.path.dirname(lpath), exist_ok=True)
        label = np.full((H, W), value % 19, np.uint8)
        label[0, 0] = 255
        Image.fromarray(label).save(lpath)


def check(ds, n, labelled=True):
    assert len(ds) == n
    sample = ds[0]
    assert sample['img'].shape[0] == 3
    assert ('gt_semantic_seg' in sample) == labelled
    return sample


def test_cityscapes_layout_and_split_file(tmp_path):
    root = str(tmp_path)
    for city, i in (('aachen', 0), ('bremen', 1), ('bremen', 2)):
        stem = f'{city}/{city}_00000{i}_000019'
        put(root, f'leftImg8bit/train/{stem}_leftImg8bit.png',
            f'gtFine/train/{stem}_gtFine_labelTrainIds.png', value=i)
    ds = CityscapesDataset(data_root=root, img_dir='leftImg8bit/train',
                           ann_dir='gtFine/train', pipeline=TRAIN)
    sample = check(ds, 3)
    assert sample['img'].shape == (3, 8, 8)
    assert ds.img_infos[0]['filename'] == \
        'aachen/aachen_000000_000019_leftImg8bit.png'  # sorted, recursive
    (tmp_path / 'one.txt').write_text('bremen/bremen_000002_000019\n')
    ds = CityscapesDataset(data_root=root, img_dir='leftImg8bit/train',
                           ann_dir='gtFine/train', split='one.txt',
                           pipeline=TEST)
    assert len(ds) == 1 and ds.get_gt_seg_map_by_idx(0)[1, 1] == 2
    assert ds.metainfo['classes'][0] == 'road' and len(
        ds.metainfo['palette']) == 19


def test_gta_and_synthia_layouts(tmp_path):
    root = str(tmp_path)
    put(root, 'gta/images/00001.png', 'gta/labels/00001_labelTrainIds.png')
    put(root, 'syn/RGB/0000001.png', 'syn/GT/LABELS/0000001_labelTrainIds.png')
    check(GTADataset(data_root=root + '/gta', img_dir='images',
                     ann_dir='labels', pipeline=TRAIN), 1)
    check(SynthiaDataset(data_root=root + '/syn', img_dir='RGB',
                         ann_dir='GT/LABELS', pipeline=TRAIN), 1)


def make_acdc(root):
    for cond, split, seq, i in (('night', 'train', 'GOPR0351', 0),
                                ('night', 'train', 'GOPR0351', 1),
                                ('fog', 'train', 'GOPR0475', 2),
                                ('night', 'val', 'GOPR0594', 3),
                                ('night', 'test', 'GOPR0355', 4)):
        stem = f'{seq}/{seq}_frame_00000{i}'
        label = (f'gt/{cond}/{split}/{stem}_gt_labelTrainIds.png'
                 if split != 'test' else None)
        put(root, f'rgb_anon/{cond}/{split}/{stem}_rgb_anon.png', label, i)
        put(root, f'rgb_anon/{cond}/{split}_ref/{stem}_rgb_ref_anon.png')


def test_acdc_shipped_layout_condition_and_all(tmp_path):
    root = str(tmp_path)
    make_acdc(root)
    night = ACDCDataset(data_root=root, subset='train', condition='night',
                        pipeline=TRAIN)
    check(night, 2)
    everything = ACDCDataset(data_root=root, subset='train', pipeline=TRAIN)
    check(everything, 3)
    two = ACDCDataset(data_root=root, subset='train',
                      condition=['fog', 'night'], pipeline=TRAIN)
    assert len(two) == 3
    check(ACDCDataset(data_root=root, subset='val', condition='night',
                      pipeline=TEST), 1)
    test = ACDCDataset(data_root=root, subset='test', condition='night',
                       pipeline=TEST, test_mode=True)
    check(test, 1, labelled=False)
    with pytest.raises(ValueError, match='unknown condition'):
        ACDCDataset(data_root=root, subset='train', condition='dusk',
                    pipeline=TEST)


def test_acdc_flat_layout(tmp_path):
    root = str(tmp_path)
    put(root, 'rgb_anon/train/GOPR1_frame_000001_rgb_anon.png',
        'gt/train/GOPR1_frame_000001_gt_labelTrainIds.png')
    ds = ACDCDataset(data_root=root, subset='train', pipeline=TRAIN)
    assert ds.img_dir.endswith(os.path.join('rgb_anon', 'train'))
    check(ds, 1)


def test_dark_zurich_nightcity_nighttime_driving_prompt(tmp_path):
    root = str(tmp_path)
    stem = 'GOPR0356/GOPR0356_frame_000321'
    put(root, f'dz/rgb_anon/train/night/{stem}_rgb_anon.png')
    put(root, f'dz/rgb_anon/val/night/{stem}_rgb_anon.png',
        f'dz/gt/val/night/{stem}_gt_labelTrainIds.png')
    check(DarkZurichDataset(data_root=root + '/dz',
                            img_dir='rgb_anon/train/night', pipeline=TRAIN),
          1, labelled=False)
    check(DarkZurichDataset(data_root=root + '/dz', img_dir='rgb_anon/val',
                            ann_dir='gt/val', pipeline=TEST), 1)
    put(root, 'nc/img/val/Chicago_0001.png',
        'nc/gt/val/Chicago_0001_labelTrainIds.png')
    check(NightCityDataset(data_root=root + '/nc', img_dir='img/val',
                           ann_dir='gt/val', pipeline=TEST), 1)
    put(root, 'nd/leftImg8bit/test/night/x_leftImg8bit.png',
        'nd/gtCoarse_daytime_trainvaltest/test/night/'
        'x_gtCoarse_labelTrainIds.png')
    check(NighttimeDrivingDataset(data_root=root + '/nd', pipeline=TEST), 1)
    put(root, 'prompt/img/p1.png', 'prompt/gt/p1_labelTrainIds.png')
    check(PromptDataset(data_root=root + '/prompt', pipeline=TRAIN), 1)


def test_bdd100k_night_reads_the_name_list(tmp_path):
    root = str(tmp_path)
    for split, name in (('train', 'a1'), ('train', 'b2'), ('val', 'c3')):
        put(root, f'images/10k/{split}/{name}.jpg',
            f'labels/sem_seg/masks/{split}/{name}.png')
    (tmp_path / 'night.txt').write_text(
        'images/10k/train/b2.jpg\nval/c3\n')
    ds = BDD100kNightDataset(data_root=root, split='night.txt',
                             pipeline=TEST)
    check(ds, 2)
    assert [i['filename'] for i in ds.img_infos] == ['train/b2.jpg',
                                                     'val/c3.jpg']


def test_crop_pseudo_margins_mask_follows_the_geometry(tmp_path):
    root = str(tmp_path)
    put(root, 'img/a.png', 'gt/a_labelTrainIds.png')
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='Resize', img_scale=(32, 24)),  # x2
                dict(type='RandomFlip', prob=1.0),
                dict(type='PackSegInputs')]
    ds = PromptDataset(data_root=root, pipeline=pipeline,
                       crop_pseudo_margins=[1, 2, 3, 0])
    mask = ds[0]['valid_pseudo_mask'][0].numpy()
    assert mask.shape == (24, 32)
    expected = np.ones((H, W), np.uint8)
    expected[:1] = 0
    expected[-2:] = 0
    expected[:, :3] = 0
    expected = np.repeat(np.repeat(expected, 2, 0), 2, 1)[:, ::-1]
    np.testing.assert_array_equal(mask, expected)


def test_eval_pipeline_keeps_labels_at_original_size(tmp_path):
    root = str(tmp_path)
    put(root, 'img/a.png', 'gt/a_labelTrainIds.png')
    sample = PromptDataset(data_root=root, pipeline=TEST)[0]
    assert sample['img'].shape[1:] == (6, 8)
    assert sample['gt_semantic_seg'].shape[1:] == (H, W)
    assert sample['img_metas']['seg_map_path'].endswith('a_labelTrainIds.png')


def test_samples_depend_only_on_index_and_seed(tmp_path):
    root = str(tmp_path)
    put(root, 'img/a.png', 'gt/a_labelTrainIds.png')
    ds = PromptDataset(data_root=root, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', img_scale=(64, 48), ratio_range=(0.5, 2.0)),
        dict(type='PackSegInputs')])
    shapes = [ds[(0, s)]['img'].shape for s in (5, 5, 6, 7, 8)]
    assert shapes[0] == shapes[1] and len(set(shapes)) > 1
    assert ds[0]['img'].shape == ds[0]['img'].shape  # bare int: fixed seed


def test_base_dataset_configs_build_on_the_layouts(tmp_path):
    root = str(tmp_path)
    stem = 'aachen/aachen_000000_000019'
    put(root, f'cs/leftImg8bit/train/{stem}_leftImg8bit.png',
        f'cs/gtFine/train/{stem}_gtFine_labelTrainIds.png')
    make_acdc(root + '/acdc')
    cfg = Config.fromfile(
        'configs/_base_/datasets/uda_cityscapes_to_acdc_512x512.py')
    train = cfg.data.train
    train.source.data_root = root + '/cs'
    train.target.data_root = root + '/acdc'
    for pipe in (train.source.pipeline, train.target.pipeline):
        for t in pipe:
            if t['type'] in ('RandomCrop', 'Pad'):
                t[{'RandomCrop': 'crop_size', 'Pad': 'size'}[t['type']]] = (
                    8, 8)
    sample = DATASETS.build(train)[(0, 1)]
    assert sample['source']['img'].shape == (3, 8, 8)
    test_set = select_test_split(cfg)
    test_set['data_root'] = root + '/acdc'
    assert len(DATASETS.build(test_set)) == 1
    with pytest.raises(KeyError, match='data.test_set'):
        select_test_split(Config(dict(data=dict(val=dict()))))
