"""Converters question the labels they read: truncated or RGB label PNGs
are skipped and named, out-of-range or 16-bit ids are counted warnings,
stats without any class are refused; ``--nproc`` reports the same."""
import json
import os

import cv2
import numpy as np
import pytest
from PIL import Image

from test_converters import load_script, read, save

CS = 'gtFine/train/aachen/aachen_00000{}_000019_gtFine_labelIds.png'


def cityscapes_root(tmp_path, labels):
    """``{index: array}`` as Cityscapes train labels; returns root, paths."""
    root = str(tmp_path)
    paths = {}
    for i, label in labels.items():
        paths[i] = os.path.join(root, CS.format(i))
        save(paths[i], label)
    return root, paths


def truncate(path, keep=0.5):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def noisy(shape=(16, 32), seed=0):
    """Random valid label ids (so PNG compression leaves enough bytes)."""
    return np.random.default_rng(seed).integers(0, 34, shape, np.uint8)


def run(script, argv, capsys):
    """``(exit code, stdout, stderr)`` of a converter's ``main``."""
    code = 0
    try:
        load_script(script).main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def summary(out):
    return out.strip().splitlines()[-1].split('\r')[-1]


def test_truncated_label_is_skipped_named_and_fails_the_run(tmp_path, capsys):
    root, paths = cityscapes_root(tmp_path, {0: noisy(), 1: noisy(seed=1),
                                             2: noisy(seed=2)})
    truncate(paths[1])
    code, out, err = run('cityscapes', [root], capsys)
    assert code == 'cityscapes: failed: 1 label files skipped (listed ' \
        'above); fix the labels and re-run'
    assert f'error: {paths[1]}: cannot decode' in err
    assert summary(out).startswith(
        'cityscapes: 2 of 3 label files converted, 1 skipped, 0 suspicious; '
        'RCS stats of 2 train labels in')
    assert not os.path.exists(paths[1].replace('labelIds', 'labelTrainIds'))
    assert os.path.exists(paths[2].replace('labelIds', 'labelTrainIds'))
    with open(os.path.join(root, 'sample_class_stats.json')) as f:
        assert len(json.load(f)) == 2


def test_rgb_label_ids_png_is_skipped_and_named(tmp_path, capsys):
    rgb = np.stack([noisy()] * 3, axis=-1)
    root, paths = cityscapes_root(tmp_path, {0: noisy(), 1: rgb})
    code, out, err = run('cityscapes', [root], capsys)
    assert code != 0
    assert (f'error: {paths[1]}: RGB image of shape (16, 32, 3), expected a '
            'single-channel id map') in err
    assert '1 of 2 label files converted, 1 skipped' in summary(out)
    assert not os.path.exists(paths[1].replace('labelIds', 'labelTrainIds'))


def test_ids_above_33_are_a_counted_warning(tmp_path, capsys):
    label = np.full((2, 4), 26, np.uint8)
    label[0, :3] = [34, 200, 200]
    root, paths = cityscapes_root(tmp_path, {0: label, 1: noisy()})
    code, out, err = run('cityscapes', [root], capsys)
    assert code == 0
    assert (f'warning: {paths[0]}: 3 of 8 pixels hold ids outside 0..33 '
            '(34, 200; max 200), converted to ignore (255)') in err
    assert '2 of 2 label files converted, 0 skipped, 1 suspicious' in \
        summary(out)
    out_file = paths[0].replace('labelIds', 'labelTrainIds')
    np.testing.assert_array_equal(read(out_file)[0], [255, 255, 255, 13])


@pytest.mark.parametrize('script', ['cityscapes', 'gta'])
def test_16_bit_labels_with_values_from_256_are_a_counted_warning(
        tmp_path, capsys, script):
    label = np.full((2, 4), 26, np.uint16)
    label[1, 1:] = [256, 999, 7]
    if script == 'gta':
        root = str(tmp_path)
        path = os.path.join(root, 'labels', '00001.png')
    else:
        root, path = str(tmp_path), os.path.join(str(tmp_path), CS.format(0))
    os.makedirs(os.path.dirname(path))
    cv2.imwrite(path, label)
    code, out, err = run(script, [root], capsys)
    assert code == 0
    assert (f'warning: {path}: 16-bit label: 2 of 8 pixels hold ids outside '
            '0..33 (256, 999; max 999)') in err
    assert '1 of 1 label files converted, 0 skipped, 1 suspicious' in \
        summary(out)
    out_file = path[:-len('.png')] + '_labelTrainIds.png' if script == 'gta' \
        else path.replace('labelIds', 'labelTrainIds')
    np.testing.assert_array_equal(read(out_file)[1], [13, 255, 255, 0])


def test_16_bit_labels_within_range_convert_silently(tmp_path, capsys):
    root = str(tmp_path)
    path = os.path.join(root, CS.format(0))
    os.makedirs(os.path.dirname(path))
    cv2.imwrite(path, np.array([[7, 26], [33, 0]], np.uint16))
    code, out, err = run('cityscapes', [root], capsys)
    assert code == 0 and 'warning' not in err
    np.testing.assert_array_equal(
        read(path.replace('labelIds', 'labelTrainIds')), [[0, 13], [18, 255]])


def test_nproc_workers_report_the_same(tmp_path, capsys):
    labels = {i: noisy(seed=i) for i in range(6)}
    labels[1] = np.full((4, 4), 77, np.uint8)
    root, paths = cityscapes_root(tmp_path, labels)
    truncate(paths[4])
    reports = []
    for nproc in ('1', '3'):
        code, out, err = run('cityscapes', [root, '--nproc', nproc], capsys)
        reports.append((code, summary(out), err))
    assert reports[0] == reports[1]
    code, line, err = reports[0]
    assert code != 0 and '5 of 6 label files converted, 1 skipped, ' \
        '1 suspicious' in line
    assert err.count('\n') == 2 and paths[1] in err and paths[4] in err


def test_labels_without_any_class_write_no_stats_and_fail(tmp_path, capsys):
    root = str(tmp_path)
    save(f'{root}/labels/00001.png', np.full((4, 4), 3, np.uint8))  # ignored
    with open(f'{root}/samples_with_class.json', 'w') as f:
        f.write('{"13": [["old", 5]]}')  # a previous run's stats
    code, out, err = run('gta', [root], capsys)
    assert code == 'gta: failed: no usable RCS stats; fix the labels and ' \
        're-run'
    assert summary(out) == ('gta: 1 of 1 label files converted, 0 skipped, '
                            '0 suspicious; the 1 labels hold no pixel of a '
                            'train id (all ignore), RCS stats not written')
    with open(f'{root}/samples_with_class.json') as f:
        assert f.read() == '{"13": [["old", 5]]}'
    assert not os.path.exists(f'{root}/sample_class_stats.json')


def test_no_train_split_writes_no_stats_and_says_so(tmp_path, capsys):
    root = str(tmp_path)
    save(f'{root}/gtFine/val/x/x_0_0_gtFine_labelIds.png', noisy())
    code, out, err = run('cityscapes', [root], capsys)
    assert code == 0
    assert summary(out).endswith('; no train labels, no RCS stats written')
    assert not os.path.exists(f'{root}/sample_class_stats.json')


def test_nightcity_255_without_plus_is_suspicious_with_a_hint(tmp_path,
                                                              capsys):
    root = str(tmp_path)
    save(f'{root}/gt/train/x_labelIds.png', np.array([[26, 255]], np.uint8))
    code, out, err = run('nightcity', [root], capsys)
    assert code == 0 and 'ids outside 0..33 (255; max 255)' in err
    assert err.strip().endswith('NightCity+ labels mark unlabelled pixels '
                                '255: pass --plus')
    code, out, err = run('nightcity', [root, '--plus'], capsys)
    assert code == 0 and err == '' and '0 suspicious' in summary(out)


def test_synthia_truncated_and_out_of_range_labels(tmp_path, capsys):
    root = str(tmp_path)
    os.makedirs(f'{root}/GT/LABELS')
    good = np.zeros((16, 32, 3), np.uint16)
    good[..., 2] = np.random.default_rng(0).integers(0, 23, (16, 32))
    bad = good.copy()
    bad[0, 0, 2] = 40
    for i, label in enumerate((good, bad, good)):
        cv2.imwrite(f'{root}/GT/LABELS/000000{i}.png', label)
    truncate(f'{root}/GT/LABELS/0000002.png', 0.3)
    code, out, err = run('synthia', [root, '--nproc', '2'], capsys)
    assert code != 0
    assert f'error: {root}/GT/LABELS/0000002.png: cannot decode' in err
    assert (f'warning: {root}/GT/LABELS/0000001.png: 16-bit label: 1 of 512 '
            'pixels hold ids outside 0..22 (40; max 40)') in err
    assert '2 of 3 label files converted, 1 skipped, 1 suspicious' in \
        summary(out)


def test_unwritable_output_is_skipped_and_named(tmp_path, capsys):
    root, paths = cityscapes_root(tmp_path, {0: noisy(), 1: noisy(seed=1)})
    blocked = paths[0].replace('labelIds', 'labelTrainIds')
    os.makedirs(blocked)  # a folder where the output file should go
    code, out, err = run('cityscapes', [root], capsys)
    assert code != 0 and f'error: {blocked}: cannot write' in err
    assert '1 of 2 label files converted, 1 skipped' in summary(out)


def test_many_problems_are_listed_up_to_a_limit_and_counted(tmp_path,
                                                            capsys):
    root = str(tmp_path)
    for i in range(23):
        save(f'{root}/labels/{i:05d}1.png', np.full((2, 2), 40, np.uint8))
    save(f'{root}/labels/999991.png', noisy())
    code, out, err = run('gta', [root], capsys)
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 21
    assert lines[-1] == 'warning: ... and 3 more warnings (first 20 listed)'
    assert '24 of 24 label files converted, 0 skipped, 23 suspicious' in \
        summary(out)


def test_seco_tools_name_a_truncated_or_rgb_label(tmp_path):
    from mmseg.datasets.transforms.loading import CorruptFileError
    from mmseg.seco.relabel import read_label
    path = str(tmp_path / 'x.png')
    save(path, noisy())
    truncate(path)
    with pytest.raises(CorruptFileError, match=f'cannot decode label file '
                       f'{path}'):
        read_label(path)
    save(path, np.stack([noisy()] * 3, axis=-1))
    with pytest.raises(ValueError, match=f'label file {path} has shape '
                       r'\(16, 32, 3\)'):
        read_label(path)
