"""Bad data gives clear errors naming the files; training skips corrupt
files, counting them."""
import os

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg.datasets.base_seg_dataset import CustomSegDataset
from mmseg.datasets.transforms.loading import CorruptFileError

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]


def layout(root, names=('a', 'b', 'c'), size=(6, 8), label=None):
    os.makedirs(os.path.join(root, 'img'), exist_ok=True)
    os.makedirs(os.path.join(root, 'gt'), exist_ok=True)
    for name in names:
        cv2.imwrite(os.path.join(root, 'img', name + '.png'),
                    np.zeros(size + (3,), np.uint8))
        lab = np.zeros(size, np.uint8) if label is None else label
        Image.fromarray(lab).save(os.path.join(root, 'gt', name + '_l.png'))


def dataset(root, **kwargs):
    args = dict(data_root=str(root), img_dir='img', ann_dir='gt',
                img_suffix='.png', seg_map_suffix='_l.png',
                pipeline=PIPELINE)
    args.update(kwargs)
    return CustomSegDataset(**args)


def corrupt(path):
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + b'\x00' * 20)


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder not found.*img'):
        dataset(tmp_path)
    layout(str(tmp_path))
    with pytest.raises(FileNotFoundError,
                       match='label folder not found.*nope'):
        dataset(tmp_path, ann_dir='nope')


def test_empty_folder_names_it_and_the_suffix(tmp_path):
    (tmp_path / 'img').mkdir()
    (tmp_path / 'img' / 'x.jpg').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=r"'.png' found in .*img"):
        dataset(tmp_path)


def test_missing_label_names_both_files(tmp_path):
    layout(str(tmp_path))
    os.remove(tmp_path / 'gt' / 'b_l.png')
    with pytest.raises(FileNotFoundError,
                       match=r'b_l\.png missing for image .*b\.png'):
        dataset(tmp_path)


def test_label_of_other_size_names_both_files(tmp_path):
    layout(str(tmp_path))
    Image.fromarray(np.zeros((5, 8), np.uint8)).save(
        tmp_path / 'gt' / 'a_l.png')
    with pytest.raises(ValueError,
                       match=r'a_l\.png has size .* image .*a\.png'):
        dataset(tmp_path)[0]


def test_label_values_outside_train_ids_are_reported(tmp_path):
    label = np.zeros((6, 8), np.uint8)
    label[0, :3] = [7, 26, 33]  # label ids left unconverted
    label[1, 0] = 255
    layout(str(tmp_path), names=('a',), label=label)
    with pytest.raises(ValueError, match=r'a_l\.png holds values \[26, 33\]'):
        dataset(tmp_path)[0]


def test_corrupt_image_raises_in_test_mode(tmp_path):
    layout(str(tmp_path))
    corrupt(tmp_path / 'img' / 'a.png')
    ds = dataset(tmp_path, test_mode=True)
    with pytest.raises(CorruptFileError, match=r'img.a\.png'):
        ds[0]


def test_corrupt_label_png_raises_in_test_mode(tmp_path):
    layout(str(tmp_path))
    corrupt(tmp_path / 'gt' / 'b_l.png')
    with pytest.raises(CorruptFileError, match=r'b_l\.png'):
        dataset(tmp_path, test_mode=True)[1]


def test_corrupt_file_in_training_is_skipped_and_counted(tmp_path):
    layout(str(tmp_path))
    corrupt(tmp_path / 'img' / 'a.png')
    ds = dataset(tmp_path)
    first = ds[(0, 3)]
    assert ds.skipped_files == [str(tmp_path / 'img' / 'a.png')]
    assert not first['img_metas']['filename'].endswith('a.png')
    again = dataset(tmp_path)[(0, 3)]  # the replacement is deterministic
    assert again['img_metas']['filename'] == first['img_metas']['filename']


def test_too_many_corrupt_files_in_a_row_raise(tmp_path):
    layout(str(tmp_path))
    for name in 'abc':
        corrupt(tmp_path / 'img' / f'{name}.png')
    ds = dataset(tmp_path, max_load_failures=4)
    with pytest.raises(RuntimeError, match='5 corrupt or missing files'):
        ds[0]
    assert len(ds.skipped_files) == 5
