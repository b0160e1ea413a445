"""Dataset converters: label-id tables, stats files, ACDC flattening."""
import importlib.util
import json
import os
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg.datasets.acdc import ACDCDataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The official Cityscapes table, written out independently of the code.
CS_TRAIN_IDS = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                31, 32, 33]
SYNTHIA_IDS = [3, 4, 2, 21, 5, 7, 15, 9, 6, 16, 1, 10, 17, 8, 18, 19, 20, 12,
               11]


def load_script(name):
    path = os.path.join(ROOT, 'tools', 'convert_datasets', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'convert_{name}', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # worker processes unpickle by name
    spec.loader.exec_module(module)
    return module


def all_ids_label():
    """A 2x128 map holding every value 0..255 (ids 0..33 and beyond)."""
    return np.arange(256, dtype=np.uint8).reshape(2, 128)


def expected_train_ids(table):
    lut = np.full(256, 255, np.uint8)
    for train_id, label_id in enumerate(table):
        lut[label_id] = train_id
    return lut[all_ids_label()]


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def read(path):
    return np.array(Image.open(path))


def test_cityscapes_ids_stats_and_split_lists(tmp_path, capsys):
    root = str(tmp_path)
    gt = os.path.join(root, 'gtFine')
    save(f'{gt}/train/aachen/aachen_000000_000019_gtFine_labelIds.png',
         all_ids_label())
    small = np.full((2, 4), 26, np.uint8)  # car
    small[0, 0] = 24  # person
    save(f'{gt}/train/bonn/bonn_000001_000019_gtFine_labelIds.png', small)
    save(f'{gt}/val/lindau/lindau_000000_000019_gtFine_labelIds.png', small)
    load_script('cityscapes').main([root, '--nproc', '2'])
    out = f'{gt}/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png'
    np.testing.assert_array_equal(read(out), expected_train_ids(CS_TRAIN_IDS))
    assert os.path.isfile(
        f'{gt}/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png')
    with open(os.path.join(root, 'sample_class_stats.json')) as f:
        stats = json.load(f)
    assert len(stats) == 2  # train only
    bonn = [s for s in stats if 'bonn' in s['file']][0]
    assert bonn == {'11': 1, '13': 7, 'file': bonn['file']}
    with open(os.path.join(root, 'samples_with_class.json')) as f:
        with_class = json.load(f)
    assert [n for _, n in with_class['11']] == [1, 1]
    with open(os.path.join(root, 'sample_class_stats_dict.json')) as f:
        assert json.load(f)[bonn['file']] == {'11': 1, '13': 7}
    with open(os.path.join(root, 'train.txt')) as f:
        assert f.read().split() == ['aachen/aachen_000000_000019',
                                    'bonn/bonn_000001_000019']
    out = capsys.readouterr().out  # progress bar with elapsed time and ETA
    assert '3/3, elapsed 0:00:0' in out and 'ETA 0:00:00' in out


def test_gta_converts_only_raw_labels(tmp_path):
    root = str(tmp_path)
    save(f'{root}/labels/00001.png', all_ids_label())
    load_script('gta').main([root])
    out = f'{root}/labels/00001_labelTrainIds.png'
    np.testing.assert_array_equal(read(out), expected_train_ids(CS_TRAIN_IDS))
    load_script('gta').main([root])  # a second run ignores its outputs
    assert sorted(os.listdir(f'{root}/labels')) == [
        '00001.png', '00001_labelTrainIds.png']


def test_synthia_reads_the_last_channel_of_16_bit_labels(tmp_path):
    root = str(tmp_path)
    os.makedirs(f'{root}/GT/LABELS')
    label = np.zeros((2, 128, 3), np.uint16)
    label[..., 2] = all_ids_label()
    label[..., 0] = 999  # instance ids in another channel
    cv2.imwrite(f'{root}/GT/LABELS/0000001.png', label)
    load_script('synthia').main([root])
    out = read(f'{root}/GT/LABELS/0000001_labelTrainIds.png')
    np.testing.assert_array_equal(out, expected_train_ids(SYNTHIA_IDS))
    with open(f'{root}/sample_class_stats.json') as f:
        assert set(json.load(f)[0]) == {str(c) for c in range(19)} | {'file'}


def test_nightcity_plus_maps_255_to_unlabelled_first(tmp_path):
    root = str(tmp_path)
    label = np.array([[26, 255, 7, 0]], np.uint8)
    save(f'{root}/gt/train/x_labelIds.png', label)
    save(f'{root}/gt/val/y_labelIds.png', label)
    load_script('nightcity').main([root, '--plus'])
    np.testing.assert_array_equal(read(f'{root}/gt/train/x_labelTrainIds.png'),
                                  [[13, 255, 0, 255]])
    with open(f'{root}/sample_class_stats.json') as f:
        assert [s['file'].endswith('x_labelTrainIds.png')
                for s in json.load(f)] == [True]


@pytest.mark.parametrize('symlink', [False, True])
def test_acdc_flattening(tmp_path, symlink):
    root = str(tmp_path)
    for cond, seq in (('night', 'GOPR0351'), ('fog', 'GOPR0475')):
        stem = f'{seq}/{seq}_frame_000001'
        img = f'{root}/rgb_anon/{cond}/train/{stem}_rgb_anon.png'
        os.makedirs(os.path.dirname(img))
        cv2.imwrite(img, np.zeros((4, 6, 3), np.uint8))
        save(f'{root}/gt/{cond}/train/{stem}_gt_labelTrainIds.png',
             np.ones((4, 6), np.uint8))
        save(f'{root}/gt/{cond}/train/{stem}_gt_labelIds.png',
             np.ones((4, 6), np.uint8))
    argv = [root] + (['--symlink'] if symlink else [])
    load_script('acdc').main(argv)
    names = sorted(os.listdir(f'{root}/rgb_anon/train'))
    assert names == ['GOPR0351_frame_000001_rgb_anon.png',
                     'GOPR0475_frame_000001_rgb_anon.png']
    assert sorted(os.listdir(f'{root}/gt/train')) == [
        'GOPR0351_frame_000001_gt_labelTrainIds.png',
        'GOPR0475_frame_000001_gt_labelTrainIds.png']
    assert os.path.islink(f'{root}/rgb_anon/train/{names[0]}') == symlink
    ds = ACDCDataset(data_root=root, subset='train', pipeline=[])
    assert ds.img_dir == os.path.join(root, 'rgb_anon', 'train') and len(
        ds) == 2
