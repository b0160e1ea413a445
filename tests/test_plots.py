"""Figures and the tools that draw them, on generated logs and metrics."""
import json
import os.path as osp

import numpy as np
import pytest

from mmseg.evaluation.plots import (plot_class_iou, plot_confusion,
                                    plot_sweep, row_normalised)
from mmseg.evaluation.report import results_dict, write_evaluation_outputs
from tools.analyze_logs import main as analyze_logs
from tools.analyze_logs import read_series, scalar_files
from tools.collect_results import main as collect_results


def _write_scalars(work_dir, stamp, records):
    folder = work_dir / stamp / 'vis_data'
    folder.mkdir(parents=True)
    with open(folder / 'scalars.json', 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def _train(step, loss):
    return {'lr': 1e-4, 'decode.loss_seg': loss, 'mix.decode.loss_seg':
            loss / 2, 'time': 0.5, 'iter': step, 'step': step}


def _val(step, miou):
    return {'aAcc': 50.0, 'mIoU': miou, 'IoU.road': miou, 'time': 9.9,
            'step': step}


def test_series_join_resumed_runs_and_keep_train_timing(tmp_path):
    _write_scalars(tmp_path, '20260101_000000',
                   [_train(1, 3.0), _train(2, 2.5), _val(2, 5.0)])
    _write_scalars(tmp_path, '20260101_010000',  # resumed from iter 2
                   [_train(3, 2.0), _val(4, float('nan')), _val(4, 7.0)])
    series = read_series(scalar_files(str(tmp_path)))
    assert series['decode.loss_seg'] == {1: 3.0, 2: 2.5, 3: 2.0}
    assert series['mIoU'] == {2: 5.0, 4: 7.0}
    assert series['time'] == {1: 0.5, 2: 0.5, 3: 0.5}  # not the eval time
    assert 'step' not in series and 'iter' not in series


def test_analyze_logs_writes_png_and_names_bad_input(tmp_path):
    for name, scale in (('a', 1.0), ('b', 2.0)):
        _write_scalars(tmp_path / name, '20260101_000000',
                       [_train(s, scale / s) for s in range(1, 6)] +
                       [_val(5, 10 * scale)])
    out = analyze_logs([str(tmp_path / 'a'), str(tmp_path / 'b'), '--out',
                        str(tmp_path / 'figs' / 'curves.png')])
    assert osp.getsize(out) > 10000
    png = str(tmp_path / 'x.png')
    with pytest.raises(SystemExit, match='no <timestamp>/vis_data'):
        analyze_logs([str(tmp_path / 'figs'), '--out', png])
    with pytest.raises(SystemExit, match='neither a work dir'):
        analyze_logs([str(tmp_path / 'nope'), '--out', png])
    with pytest.raises(SystemExit, match='"acc" is in none.*decode.loss_seg'):
        analyze_logs([str(tmp_path / 'a'), '--keys', 'acc', '--out',
                      str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit):  # 1 label for 2 runs
        analyze_logs([str(tmp_path / 'a'), str(tmp_path / 'b'), '--legend',
                      'x', '--out', str(tmp_path / 'x.png')])


def test_row_normalised_confusion():
    norm = row_normalised(np.array([[3, 1], [0, 0]]))
    assert norm[0].tolist() == [0.75, 0.25]
    assert np.isnan(norm[1]).all()  # class without ground-truth pixels


def test_evaluation_figures_and_json(tmp_path):
    names = ['road', 'sky', 'car']
    metrics = {'aAcc': 80.0, 'mIoU': 40.0, 'mAcc': 50.0,
               'IoU.road': 60.0, 'Acc.road': 70.0, 'IoU.sky': 20.0,
               'Acc.sky': 30.0, 'IoU.car': float('nan'),
               'Acc.car': float('nan')}
    cm = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 0]])
    paths = write_evaluation_outputs(
        metrics, names, cm, str(tmp_path / 'r.json'), str(tmp_path / 'p'),
        dict(network='teacher', data='data.test'))
    assert [osp.basename(p) for p in paths] == [
        'r.json', 'iou_per_class.png', 'confusion_matrix.png']
    assert all(osp.getsize(p) > 2000 for p in paths[1:])
    with open(paths[0]) as f:
        saved = json.load(f)
    assert saved == json.loads(json.dumps(results_dict(
        metrics, names, dict(network='teacher', data='data.test'))))
    assert saved['summary'] == {'aAcc': 80.0, 'mIoU': 40.0, 'mAcc': 50.0}
    assert saved['per_class']['road'] == {'IoU': 60.0, 'Acc': 70.0}
    assert saved['per_class']['car'] == {'IoU': None, 'Acc': None}
    assert saved['network'] == 'teacher'


def test_single_figures(tmp_path):
    assert osp.getsize(plot_class_iou(['a', 'b'], [10.0, float('nan')],
                                      str(tmp_path / 'bar.png'))) > 2000
    assert osp.getsize(plot_confusion(np.eye(2), ['a', 'b'],
                                      str(tmp_path / 'cm.png'))) > 2000
    assert osp.getsize(plot_sweep({'dacs': {'0': 7.0, '1': 9.0},
                                   'hrda': {'-': 11.0}},
                                  str(tmp_path / 's.png'))) > 2000


def test_collect_results_plot(tmp_path):
    for name, miou in (('toy_dacs_s0', 7.0), ('toy_dacs_s1', 9.0),
                       ('toy_hrda_s0', 12.0)):
        run = tmp_path / f'261121_1200_{name}_abcde' / '20261121'
        run.mkdir(parents=True)
        (run / '20261121.log').write_text(
            f'Iter(val) [2/2]  aAcc: 60.0  mIoU: {miou}  IoU.road: 70.0\n')
    out = tmp_path / 'sweep.png'
    collect_results([str(tmp_path), '--plot', str(out)])
    assert osp.getsize(out) > 5000
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no finished run'):
        collect_results([str(tmp_path / 'empty'), '--plot',
                         str(tmp_path / 'none.png')])
    assert not (tmp_path / 'none.png').exists()
