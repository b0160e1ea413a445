"""tools/pack_submission.py: the zip each evaluation server takes, checked
against a generated test tree before anything is written."""
import io
import os
import os.path as osp
import zipfile

import numpy as np
import pytest
from PIL import Image

from mmseg.datasets.cityscapes_labels import PALETTE, trainid_to_id_lut
from mmseg.evaluation.format_results import save_result_png
from mmseg.evaluation.submission import (SubmissionError, pack_submission,
                                         save_confidence_png)
from mmseg.utils.cli import run_cli
from tools.pack_submission import main as pack_main

H, W = 6, 10
DZ_SEQS = ('GOPR0356', 'GOPR0364')


def _image(path, size=(H, W)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.zeros((*size, 3), np.uint8)).save(path)


def dark_zurich_tree(root):
    """``rgb_anon/test/night/<seq>/<seq>_frame_<n>_rgb_anon.png`` (2 x 2
    images) plus a ``test_ref`` day folder the server does not score."""
    names = []
    for seq in DZ_SEQS:
        for frame in range(2):
            name = f'{seq}_frame_{frame:06d}_rgb_anon.png'
            _image(osp.join(root, 'rgb_anon', 'test', 'night', seq, name))
            names.append(name)
    _image(osp.join(root, 'rgb_anon', 'test_ref', 'day', 'GOPR0356',
                    'GOPR0356_frame_000000_ref_rgb_anon.png'))
    return names


def write_predictions(pred_dir, names, seed=0, confidence=True,
                      size=(H, W)):
    """Train-id PNGs as tools/test.py writes them (palette mode) and
    non-constant confidence maps; returns ``{name: (ids, confidence)}``."""
    rng = np.random.default_rng(seed)
    written = {}
    for name in names:
        ids = rng.integers(0, 19, size).astype(np.uint8)
        conf = rng.uniform(0.2, 1.0, size).astype(np.float32)
        save_result_png(ids, osp.join(pred_dir, name), to_label_id=False)
        if confidence:
            save_confidence_png(conf, osp.join(pred_dir, 'confidence', name))
        written[name] = (ids, conf)
    return written


def read_zip(path):
    with zipfile.ZipFile(path) as zf:
        return {n: np.asarray(Image.open(io.BytesIO(zf.read(n))))
                for n in zf.namelist()}


def run_tool(argv, capsys):
    code = run_cli(pack_main, argv, prog='pack_submission.py')
    _, err = capsys.readouterr()
    return code, err.strip()


def test_dark_zurich_missing_prediction_named_nothing_written(tmp_path,
                                                              capsys):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    write_predictions(str(tmp_path / 'preds'), names)
    os.remove(tmp_path / 'preds' / names[1])
    out = tmp_path / 'dz_test.zip'
    out.write_bytes(b'an older submission')
    code, err = run_tool([str(tmp_path / 'preds'), '--dataset', 'darkzurich',
                          '--test-list', str(tmp_path / 'dz'), '--out',
                          str(out)], capsys)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert '1 test image(s) without a prediction' in err
    assert names[1] in err
    assert out.read_bytes() == b'an older submission'
    assert sorted(os.listdir(tmp_path)) == ['dz', 'dz_test.zip', 'preds']


def test_dark_zurich_zip_has_the_server_layout_and_network_confidence(
        tmp_path, capsys):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    preds = write_predictions(str(tmp_path / 'preds'), names)
    out = str(tmp_path / 'dz_test.zip')
    code, err = run_tool([str(tmp_path / 'preds'), '--dataset', 'darkzurich',
                          '--test-list', str(tmp_path / 'dz'), '--out', out],
                         capsys)
    assert code == 0, err
    files = read_zip(out)
    assert set(files) == {f'{folder}/{name}' for name in names for folder in
                          ('labelTrainIds', 'labelTrainIds_invalid',
                           'confidence')}
    for name, (ids, conf) in preds.items():
        label = files[f'labelTrainIds/{name}']
        assert label.dtype == np.uint8 and label.shape == (H, W)
        np.testing.assert_array_equal(label, ids)
        # no --invalid-below: nothing declared invalid
        np.testing.assert_array_equal(files[f'labelTrainIds_invalid/{name}'],
                                      ids)
        levels = files[f'confidence/{name}']
        assert levels.dtype == np.uint16
        assert len(np.unique(levels)) > 1  # the network's, not a constant
        np.testing.assert_allclose(levels / 65535, conf, atol=1 / 65535)
    with zipfile.ZipFile(out) as zf:  # plain single-channel PNGs
        modes = {Image.open(io.BytesIO(zf.read(n))).mode
                 for n in zf.namelist()}
    assert modes == {'L', 'I;16'}


def test_dark_zurich_invalid_below_marks_low_confidence_255(tmp_path):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    preds = write_predictions(str(tmp_path / 'preds'), names)
    out = str(tmp_path / 'dz.zip')
    pack_submission(str(tmp_path / 'preds'), 'darkzurich',
                    str(tmp_path / 'dz'), out, invalid_below=0.5)
    files = read_zip(out)
    for name, (ids, conf) in preds.items():
        expected = np.where(conf < 0.5, 255, ids)
        np.testing.assert_array_equal(files[f'labelTrainIds_invalid/{name}'],
                                      expected)
        assert (expected == 255).any()


def test_dark_zurich_without_confidence_maps_refused_unless_constant(
        tmp_path):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    write_predictions(str(tmp_path / 'preds'), names, confidence=False)
    out = str(tmp_path / 'dz.zip')
    with pytest.raises(SubmissionError, match='confidence=True'):
        pack_submission(str(tmp_path / 'preds'), 'darkzurich',
                        str(tmp_path / 'dz'), out)
    assert not osp.exists(out)
    report = pack_submission(str(tmp_path / 'preds'), 'darkzurich',
                             str(tmp_path / 'dz'), out,
                             constant_confidence=True)
    assert report.confidence == 'constant'
    levels = read_zip(out)[f'confidence/{names[0]}']
    assert (levels == 65535).all()


def acdc_tree(root):
    names = {}
    for cond, seq in (('fog', 'GOPR0475'), ('night', 'GOPR0351')):
        for frame in range(2):
            name = f'{seq}_frame_{frame:06d}_rgb_anon.png'
            _image(osp.join(root, 'rgb_anon', cond, 'test', seq, name))
            names[name] = f'{cond}/test/{seq}/{name}'
        _image(osp.join(root, 'rgb_anon', cond, 'test_ref', seq,
                        f'{seq}_frame_000000_rgb_ref_anon.png'))
    return names


def test_acdc_zip_keeps_the_per_condition_layout_with_train_ids(tmp_path):
    names = acdc_tree(str(tmp_path / 'acdc'))
    preds = write_predictions(str(tmp_path / 'preds'), names,
                              confidence=False)
    out = str(tmp_path / 'acdc.zip')
    report = pack_submission(str(tmp_path / 'preds'), 'acdc',
                             str(tmp_path / 'acdc'), out)
    assert report.images == 4
    files = read_zip(out)
    assert set(files) == set(names.values())
    for name, arcname in names.items():
        np.testing.assert_array_equal(files[arcname], preds[name][0])


def test_acdc_one_condition_and_the_flat_layout(tmp_path):
    names = acdc_tree(str(tmp_path / 'acdc'))
    night = {n: a for n, a in names.items() if a.startswith('night/')}
    write_predictions(str(tmp_path / 'preds'), night, confidence=False)
    out = str(tmp_path / 'night.zip')
    pack_submission(str(tmp_path / 'preds'), 'acdc', str(tmp_path / 'acdc'),
                    out, conditions=['night'])
    assert set(read_zip(out)) == set(night.values())
    # without --conditions the fog images are named as missing
    with pytest.raises(SubmissionError, match='2 test image'):
        pack_submission(str(tmp_path / 'preds'), 'acdc',
                        str(tmp_path / 'acdc'), str(tmp_path / 'all.zip'))
    flat = tmp_path / 'flat'
    _image(str(flat / 'rgb_anon' / 'test' / 'GOPR0351_frame_000000_rgb_'
               'anon.png'))
    with pytest.raises(SubmissionError, match='shipped'):
        pack_submission(str(tmp_path / 'preds'), 'acdc', str(flat),
                        str(tmp_path / 'flat.zip'))


def test_cityscapes_zip_holds_label_ids_named_after_the_images(tmp_path):
    root = tmp_path / 'cityscapes'
    names = []
    for city in ('berlin', 'bonn'):
        name = f'{city}_000000_000019_leftImg8bit.png'
        _image(str(root / 'leftImg8bit' / 'test' / city / name))
        names.append(name)
    preds = write_predictions(str(tmp_path / 'preds'), names,
                              confidence=False)
    out = str(tmp_path / 'cs.zip')
    pack_submission(str(tmp_path / 'preds'), 'cityscapes', str(root), out)
    files = read_zip(out)
    assert set(files) == set(names)
    lut = trainid_to_id_lut()
    for name in names:
        np.testing.assert_array_equal(files[name], lut[preds[name][0]])
    assert lut[0] == 7 and lut[18] == 33  # road, bicycle


@pytest.mark.parametrize('kind', ['rgb', 'palette', 'label_ids'])
def test_colour_and_label_id_pngs_are_refused_by_name(tmp_path, kind):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    write_predictions(str(tmp_path / 'preds'), names)
    bad = str(tmp_path / 'preds' / names[2])
    ids = np.full((H, W), 13, np.uint8)
    if kind == 'rgb':  # a colour visualisation
        Image.fromarray(np.asarray(PALETTE, np.uint8)[ids]).save(bad)
    elif kind == 'palette':  # quantised colours: indices are no train ids
        img = Image.fromarray(ids, 'L').convert('P')
        img.putpalette([7, 7, 7] * 256)
        img.save(bad)
    else:
        save_result_png(ids, bad, to_label_id=True)  # label id 26 = car
    out = str(tmp_path / 'dz.zip')
    with pytest.raises(SubmissionError) as err:
        pack_submission(str(tmp_path / 'preds'), 'darkzurich',
                        str(tmp_path / 'dz'), out)
    assert bad in str(err.value) and 'to_label_id=False' in str(err.value)
    assert not osp.exists(out)
    assert [f for f in os.listdir(tmp_path) if f.endswith('.tmp')] == []


def test_extra_duplicate_and_wrong_size_predictions_are_named(tmp_path):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    pred_dir = str(tmp_path / 'preds')
    write_predictions(pred_dir, names)
    write_predictions(pred_dir, ['GOPR0999_frame_000000_rgb_anon.png'])
    write_predictions(osp.join(pred_dir, 'GOPR0356'), names[:1])
    with pytest.raises(SubmissionError) as err:
        pack_submission(pred_dir, 'darkzurich', str(tmp_path / 'dz'),
                        str(tmp_path / 'a.zip'))
    msg = str(err.value)
    assert '1 prediction(s) of no test image: GOPR0999_frame_000000' in msg
    assert f'found more than once: {names[0]}' in msg
    small = str(tmp_path / 'small')
    write_predictions(small, names, size=(H // 2, W // 2))
    with pytest.raises(SubmissionError, match=f'{names[0]}: 5x3 but'):
        pack_submission(small, 'darkzurich', str(tmp_path / 'dz'),
                        str(tmp_path / 'b.zip'))
    assert not osp.exists(tmp_path / 'a.zip')
    assert not osp.exists(tmp_path / 'b.zip')


def test_bad_options_are_one_line_errors(tmp_path, capsys):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    write_predictions(str(tmp_path / 'preds'), names)
    base = [str(tmp_path / 'preds'), '--test-list', str(tmp_path / 'dz')]
    cases = [
        (['--dataset', 'darkzurich', '--out', 'x.tar'], '.zip'),
        (['--dataset', 'darkzurich', '--out', 'x.zip', '--invalid-below',
          '2'], 'between 0 and 1'),
        (['--dataset', 'acdc', '--out', 'x.zip', '--invalid-below', '0.5'],
         'Dark Zurich only'),
        (['--dataset', 'cityscapes', '--out', 'x.zip'],
         'no Cityscapes test images'),
    ]
    for extra, needle in cases:
        code, err = run_tool(base + extra, capsys)
        assert code == 1 and needle in err and len(err.splitlines()) == 1


def test_a_partial_test_tree_is_reported_against_the_released_count(
        tmp_path, capsys):
    names = dark_zurich_tree(str(tmp_path / 'dz'))
    write_predictions(str(tmp_path / 'preds'), names)
    code, err = run_tool([str(tmp_path / 'preds'), '--dataset', 'darkzurich',
                          '--test-list', str(tmp_path / 'dz'), '--out',
                          str(tmp_path / 'dz.zip')], capsys)
    assert code == 0
    assert 'released test set has 151 images' in err and 'holds 4' in err
