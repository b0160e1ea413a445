import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmseg.datasets import toy_data
from mmseg.datasets.toy import splits, writer
from mmseg.datasets.toy_data import (CLASS_NAMES, IGNORE_INDEX, MARKER_FILE, class_stats,
                                     ensure_toy_dataset, make_toy_dataset, paint_scene,
                                     render_day, render_night, train_ids_to_label_ids)

SMALL = dict(num_source_train=4, num_source_val=2, num_target_train=2, num_target_val=2,
             num_target_test=1, num_prompts=1, num_night_oracle_train=2)
NO_IMAGES = {k: 0 for k in SMALL}


def _hashes(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'set')
    counts = make_toy_dataset(root, seed=0, **SMALL)
    return root, counts


def _read(path):
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img


def test_layout_paths_and_suffixes(small_set):
    root, counts = small_set
    expected = {
        MARKER_FILE,
        'cityscapes/sample_class_stats.json', 'cityscapes/sample_class_stats_dict.json',
        'cityscapes/samples_with_class.json',
        'prompt/img/night_prompt_0000.png', 'prompt/gt/night_prompt_0000_labelTrainIds.png',
        'dark_zurich/rgb_anon/test/night/GOPR0355/GOPR0355_frame_000000_rgb_anon.png',
    }
    for i, city in enumerate(('aachen', 'bremen', 'zurich', 'aachen')):
        stem = f'{city}/{city}_000000_{i // 3:06d}'
        expected |= {f'cityscapes/leftImg8bit/train/{stem}_leftImg8bit.png',
                     f'cityscapes/gtFine/train/{stem}_gtFine_labelTrainIds.png',
                     f'cityscapes/gtFine/train/{stem}_gtFine_labelIds.png'}
    for city in ('frankfurt', 'lindau'):
        stem = f'{city}/{city}_000000_000000'
        expected |= {f'cityscapes/leftImg8bit/val/{stem}_leftImg8bit.png',
                     f'cityscapes/gtFine/val/{stem}_gtFine_labelTrainIds.png',
                     f'cityscapes/gtFine/val/{stem}_gtFine_labelIds.png'}
    for seq in ('GOPR0351', 'GOPR0354'):
        expected.add(f'dark_zurich/rgb_anon/train/night/{seq}/{seq}_frame_000000_rgb_anon.png')
    for i in range(2):
        stem = f'GOPR0356/GOPR0356_frame_{i:06d}'
        expected |= {f'dark_zurich/rgb_anon/val/night/{stem}_rgb_anon.png',
                     f'dark_zurich/gt/val/night/{stem}_gt_labelTrainIds.png'}
    for seq in ('GOPR0357', 'GOPR0358'):  # the night oracle's labelled train split
        stem = f'{seq}/{seq}_frame_000000'
        expected |= {f'night_oracle/rgb_anon/train/night/{stem}_rgb_anon.png',
                     f'night_oracle/gt/train/night/{stem}_gt_labelTrainIds.png'}
    expected |= {f'night_oracle/{name}.json' for name in
                 ('sample_class_stats', 'sample_class_stats_dict', 'samples_with_class')}
    assert set(_hashes(root)) == expected
    assert counts == dict(source_train=4, source_val=2, target_train=2, target_val=2,
                          target_test=1, prompt=1, night_oracle_train=2)


def test_images_and_labels_have_the_expected_format(small_set):
    root, _ = small_set
    for rel in _hashes(root):
        if not rel.endswith('.png'):
            continue
        img = _read(osp.join(root, rel))
        assert img.dtype == np.uint8, rel
        if rel.endswith('labelTrainIds.png'):
            assert img.shape == (256, 512), rel
            assert set(np.unique(img)) <= set(range(19)) | {IGNORE_INDEX}, rel
        elif rel.endswith('labelIds.png'):
            train_ids = _read(osp.join(root, rel.replace('_labelIds', '_labelTrainIds')))
            np.testing.assert_array_equal(img, train_ids_to_label_ids(train_ids))
        else:
            assert img.shape == (256, 512, 3), rel


def test_train_id_to_label_id_table():
    train_ids = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 255]],
                         np.uint8)
    expected = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33, 0]
    assert train_ids_to_label_ids(train_ids).tolist() == [expected]


def test_same_seed_gives_identical_bytes_and_other_seed_differs(small_set, tmp_path):
    root, _ = small_set
    again = str(tmp_path / 'again')
    make_toy_dataset(again, seed=0, **SMALL)
    assert _hashes(again) == _hashes(root)
    other = str(tmp_path / 'other')
    make_toy_dataset(other, seed=1, **{**NO_IMAGES, 'num_source_train': 2})
    first = 'cityscapes/leftImg8bit/train/aachen/aachen_000000_000000_leftImg8bit.png'
    assert _hashes(other)[first] != _hashes(root)[first]


def test_class_stats_files_match_the_train_labels(small_set):
    root, _ = small_set
    city = osp.join(root, 'cityscapes')
    with open(osp.join(city, 'sample_class_stats.json')) as f:
        stats = json.load(f)
    with open(osp.join(city, 'sample_class_stats_dict.json')) as f:
        by_file = json.load(f)
    with open(osp.join(city, 'samples_with_class.json')) as f:
        with_class = json.load(f)
    assert len(stats) == 4 and all(e['file'].startswith('gtFine/train/') for e in stats)
    for entry in stats:
        label = _read(osp.join(city, entry['file']))
        counts = {str(c): int((label == c).sum()) for c in range(19) if (label == c).any()}
        assert {k: v for k, v in entry.items() if k != 'file'} == counts
        assert by_file[entry['file']] == counts
        for cls, n in counts.items():
            assert [entry['file'], n] in with_class[cls]
    assert sum(len(v) for v in with_class.values()) == sum(len(e) - 1 for e in stats)


def test_class_stats_keeps_only_present_classes():
    label = np.zeros((4, 4), np.uint8)
    label[0] = 13
    label[1, :2] = IGNORE_INDEX
    assert class_stats([('a.png', label)]) == [{'0': 10, '13': 4, 'file': 'a.png'}]


def test_every_class_and_ignore_appear_in_the_default_source_train(tmp_path):
    default_train = toy_data.DEFAULT_COUNTS['num_source_train']
    make_toy_dataset(str(tmp_path), seed=0, **{**NO_IMAGES, 'num_source_train': default_train})
    present = set()
    gt = tmp_path / 'cityscapes' / 'gtFine' / 'train'
    for path in gt.glob('*/*_labelTrainIds.png'):
        present |= set(np.unique(_read(str(path))).tolist())
    assert present == set(range(len(CLASS_NAMES))) | {IGNORE_INDEX}


def test_coverage_forcing_adds_the_missing_classes_in_the_last_images():
    present = np.ones(20, bool)
    present[[3, 16, 19]] = False
    assert splits._coverage_force(present, 0, 10) == []
    assert splits._coverage_force(present, 8, 10) == [3, 16]
    assert splits._coverage_force(present, 9, 10) == [3, 16, 19]
    for seed in range(3):
        scene = splits._paint_forced(seed, 'source_train', 0, [3, 16, 17, IGNORE_INDEX])
        assert {3, 16, 17, IGNORE_INDEX} <= set(np.unique(scene.label).tolist())


def test_large_vehicles_are_rarer_than_cars_and_riders_ride():
    counts = {c: 0 for c in (12, 13, 14, 15, 16, 17, 18)}
    scenes = 80
    for i in range(scenes):
        labels = set(np.unique(paint_scene(np.random.default_rng(100 + i)).label).tolist())
        for c in set(counts) & labels:
            counts[c] += 1
    car, truck, bus, train = counts[13], counts[14], counts[15], counts[16]
    assert car >= 0.8 * scenes and max(truck, bus, train) < scenes / 2, counts
    assert train <= bus <= car and train <= truck <= car, counts
    assert counts[12] <= counts[17] + counts[18] and counts[12] > 0, counts  # on two-wheelers


def test_every_class_appears_in_day_val_night_val_and_the_oracle_split(tmp_path):
    from mmseg.datasets.toy.stats import class_frequencies, split_label_paths
    defaults = toy_data.DEFAULT_COUNTS
    make_toy_dataset(str(tmp_path), seed=0, **{**NO_IMAGES,
                                               'num_source_val': defaults['num_source_val'],
                                               'num_target_val': defaults['num_target_val']})
    found = split_label_paths(str(tmp_path))
    assert set(found) == {'day_val', 'night_val'}
    for split, paths in found.items():
        stats = class_frequencies([_read(p) for p in paths])
        assert (stats['presence'] > 0).all(), (split, stats['presence'])
        # poles, lights and signs keep a few hundred pixels where present (256x512)
        assert (stats['mean_pixels'][5:8] > 150).all(), (split, stats['mean_pixels'])


def test_night_changes_sky_lights_and_signs_more_than_road_and_buildings():
    from mmseg.datasets.toy.stats import night_shift_by_class
    shift = night_shift_by_class(12)
    for changed in ('sky', 'traffic light', 'traffic sign'):
        for kept in ('road', 'building', 'sidewalk'):
            assert shift[changed] > shift[kept] + 0.1, shift


def test_night_rendering_is_darker_less_contrasted_and_less_colourful():
    day_stats, night_stats = [], []
    for i in range(4):
        scene = paint_scene(np.random.default_rng(i))
        for img, out in ((render_day(scene, np.random.default_rng(10 + i)), day_stats),
                         (render_night(scene, np.random.default_rng(20 + i)), night_stats)):
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
            chroma = img.max(-1).astype(np.float32) - img.min(-1)
            out.append((grey.mean(), grey.std(), chroma.mean()))
    day, night = np.mean(day_stats, 0), np.mean(night_stats, 0)
    assert night[0] < 0.7 * day[0]
    assert night[1] < 0.85 * day[1]
    assert night[2] < day[2]
    assert night[1] > 0.25 * day[1]  # structures stay visible


def test_ensure_replaces_a_toy_set_of_an_older_format(tmp_path):
    root = str(tmp_path / 'toy')
    tiny = {**NO_IMAGES, 'num_source_train': 1}
    make_toy_dataset(root, seed=0, **tiny)
    marker = osp.join(root, MARKER_FILE)
    with open(marker) as f:
        done = json.load(f)
    with open(marker, 'w') as f:
        json.dump({**done, 'version': writer.FORMAT_VERSION - 1, 'counts': {}}, f)
    assert ensure_toy_dataset(root, seed=0, **tiny)['source_train'] == 1
    with open(marker) as f:
        assert json.load(f)['version'] == writer.FORMAT_VERSION


def test_ensure_generates_once_and_again_when_the_folder_is_missing(tmp_path, monkeypatch):
    calls = []
    real = writer.make_toy_dataset

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, 'make_toy_dataset', counting)
    root = str(tmp_path / 'toy')
    tiny = {**NO_IMAGES, 'num_source_train': 1}
    first = ensure_toy_dataset(root, seed=0, **tiny)
    assert len(calls) == 1 and osp.exists(osp.join(root, MARKER_FILE))
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]
    assert ensure_toy_dataset(root, seed=0, **tiny) == first and len(calls) == 1
    os.remove(osp.join(root, MARKER_FILE))  # an interrupted run: completed in place
    ensure_toy_dataset(root, seed=0, **tiny)
    assert len(calls) == 2 and osp.exists(osp.join(root, MARKER_FILE))
    import shutil
    shutil.rmtree(root)
    ensure_toy_dataset(root, seed=0, **tiny)
    assert len(calls) == 3 and osp.exists(osp.join(root, MARKER_FILE))


def test_regeneration_replaces_an_old_toy_set_but_keeps_foreign_folders(tmp_path):
    root = str(tmp_path)
    make_toy_dataset(root, seed=0, **{**NO_IMAGES, 'num_source_train': 2})
    os.makedirs(osp.join(root, 'mine'))
    make_toy_dataset(root, seed=0, **{**NO_IMAGES, 'num_source_train': 1})
    files = _hashes(root)
    assert not [p for p in files if 'bremen' in p]  # the second image is gone
    assert osp.isdir(osp.join(root, 'mine'))
    with pytest.raises(ValueError, match='negative'):
        make_toy_dataset(root, num_prompts=-1)


def test_command_line_tool(tmp_path, capsys):
    import importlib.util
    path = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools', 'make_toy_data.py')
    spec = importlib.util.spec_from_file_location('make_toy_data', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = ['--out', str(tmp_path / 'toy'), '--seed', '3', '--num-source-train', '1',
            '--num-source-val', '0', '--num-target-train', '0', '--num-target-val', '0',
            '--num-target-test', '0', '--num-prompts', '1']
    tool.main(argv)
    assert 'wrote' in capsys.readouterr().out
    tool.main(argv)
    assert 'already holds' in capsys.readouterr().out
    tool.main(argv + ['--force'])
    assert 'wrote' in capsys.readouterr().out
    with open(tmp_path / 'toy' / MARKER_FILE) as f:
        assert json.load(f)['seed'] == 3
