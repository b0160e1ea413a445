import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

from mmseg.datasets.toy.stats import class_frequencies, frequency_table, split_label_paths
from mmseg.datasets.toy_data import make_toy_dataset

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COUNTS = dict(num_source_train=0, num_source_val=1, num_target_train=0, num_target_val=1,
              num_target_test=0, num_prompts=1, num_night_oracle_train=1)


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    make_toy_dataset(root, seed=0, **COUNTS)
    return root


def test_class_frequencies_share_presence_and_scale():
    a = np.zeros((4, 8), np.uint8)
    a[:, 6:] = 10          # sky: 8 of 32 pixels
    a[0, 0] = 255          # ignore does not count
    b = np.full((4, 8), 13, np.uint8)
    stats = class_frequencies([a, b])
    assert stats['pixel_share'][0] == pytest.approx(100 * 23 / 63)
    assert stats['pixel_share'][13] == pytest.approx(100 * 32 / 63)
    assert stats['presence'][[0, 10, 13, 5]].tolist() == [50, 50, 50, 0]
    assert stats['mean_pixels'][10] == 8
    half = class_frequencies([a, b], scale=0.5)
    assert half['mean_pixels'][13] == 8


def test_split_paths_table_and_tool(toy_root, capsys):
    found = split_label_paths(toy_root)
    assert set(found) == {'day_val', 'night_val', 'night_oracle_train', 'prompt'}
    table = frequency_table(toy_root, 0.5, ['day_val', 'night_val'])
    assert table.count('\n') == 20 and '| traffic light |' in table
    _tool('toy_stats').main(['--root', toy_root, '--splits', 'night_val'])
    assert '| sky |' in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match='no toy set'):
        split_label_paths(osp.join(toy_root, 'missing'))
    with pytest.raises(ValueError, match='--scale'):
        _tool('toy_stats').main(['--root', toy_root, '--scale', '0'])


def test_panel_shows_image_and_colour_label_per_split(toy_root, tmp_path):
    out = str(tmp_path / 'panel.png')
    _tool('toy_panel').main(['--root', toy_root, '--out', out])
    panel = cv2.imread(out)
    assert panel.shape == (256 * 2 + 6, 512 * 2 + 6, 3)
    tool = _tool('toy_panel')
    label_path = split_label_paths(toy_root)['night_val'][0]
    label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
    right = panel[256 + 6:, 512 + 6:]
    np.testing.assert_array_equal(right, tool.colourise(label))
    assert (tool.colourise(np.array([[255]], np.uint8)) == 0).all()
    np.testing.assert_array_equal(panel[256 + 6:, :512],
                                  cv2.imread(tool.image_path_of(label_path)))
    with pytest.raises(ValueError, match='not a toy label'):
        tool.image_path_of('x.png')
