"""Tiny training runs: TensorBoard event files for both config styles,
curves from the logs, and tools/test.py --out/--plot."""
import glob
import json
import logging
import math
import os.path as osp

import pytest
from mmengine.logging import MMLogger

from e2e_config import write_tiny_config
from tools.analyze_logs import main as analyze_logs
from tools.test import main as run_test
from tools.train import main as train_main

pytestmark = pytest.mark.slow

HOOKS_0X = '''
log_config = dict(interval=1, img_interval=2, hooks=[
    dict(type='TextLoggerHook', by_epoch=False),
    dict(type='TensorboardLoggerHook')])
'''
VISUALIZER_1X = '''
visualizer = dict(type='SegLocalVisualizer', name='visualizer', vis_backends=[
    dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
'''


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """``{style: (config, work_dir)}`` of two 2-iteration runs."""
    tmp = tmp_path_factory.mktemp('logging')
    root = str(tmp / 'toy')
    out = {}
    for style, toy, extra in (('0.x', 'toy_dacs_daformer_mitb0.py', HOOKS_0X),
                              ('1.x', 'toy_srconly_daformer_mitb0.py',
                               VISUALIZER_1X)):
        cfg = write_tiny_config(str(tmp), toy, root, iters=2,
                                ckpt_interval=2, extra=extra)
        work_dir = str(tmp / f'run_{style}')
        train_main([cfg, '--work-dir', work_dir])
        out[style] = (cfg, work_dir)
    return out


def _events(work_dir):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    files = glob.glob(osp.join(work_dir, '*', 'vis_data',
                               'events.out.tfevents.*'))
    assert len(files) == 1, files
    events = EventAccumulator(files[0], size_guidance={'images': 0})
    events.Reload()
    return events


def _scalar(events, tag):
    return {e.step: e.value for e in events.Scalars(tag)}


def test_0x_tensorboard_hook_writes_losses_lr_pseudo_miou_and_images(runs):
    events = _events(runs['0.x'][1])
    tags = set(events.Tags()['scalars'])
    for tag in ('decode.loss_seg', 'mix.decode.loss_seg', 'lr',
                'pseudo.confident_fraction', 'pseudo.weight', 'mIoU',
                'IoU.road', 'aAcc'):
        assert tag in tags, tag
    assert sorted(_scalar(events, 'decode.loss_seg')) == [1, 2]
    assert all(v > 0 for v in _scalar(events, 'decode.loss_seg').values())
    # the TensorBoard mIoU is the one of the json log
    scalars = glob.glob(osp.join(runs['0.x'][1], '*', 'vis_data',
                                 'scalars.json'))[0]
    with open(scalars) as f:
        evaluation = [json.loads(line) for line in f if 'mIoU' in line][-1]
    assert _scalar(events, 'mIoU')[2] == pytest.approx(evaluation['mIoU'])
    assert 'debug/0' in events.Tags()['images']


def test_1x_visualizer_writes_losses_and_miou(runs):
    events = _events(runs['1.x'][1])
    tags = set(events.Tags()['scalars'])
    assert {'decode.loss_seg', 'lr', 'mIoU', 'IoU.road'} <= tags
    assert sorted(_scalar(events, 'mIoU')) == [2]


def test_analyze_logs_draws_curves_of_several_runs(runs, tmp_path):
    dirs = [runs['0.x'][1], runs['1.x'][1]]
    out = analyze_logs(dirs + ['--out', str(tmp_path / 'curves.png'),
                               '--legend', 'dacs', 'source-only'])
    assert osp.getsize(out) > 10000
    out = analyze_logs(dirs + ['--keys', 'mIoU', 'lr', '--out',
                               str(tmp_path / 'miou.png')])
    assert osp.getsize(out) > 5000
    with pytest.raises(SystemExit, match='"mix.los" is in none of the logs'):
        analyze_logs(dirs + ['--keys', 'mix.los', '--out',
                             str(tmp_path / 'x.png')])


def _number(cell):
    """A table cell: ``n/a`` (a class without label pixels) is NaN."""
    return math.nan if cell == 'n/a' else float(cell)


def _printed_tables(text):
    """``({class: (IoU, Acc)}, {summary key: value})`` from the log."""
    per_class, summary, header = {}, {}, None
    section = None
    for line in text.splitlines():
        # headers carry a title: 'per class results (<split>, <network>):'
        if 'per class results' in line:
            section = 'class'
        elif line.startswith('Summary') or ' - Summary' in line:
            section = 'summary'
        if not line.startswith('|') or section is None:
            continue
        cells = [c.strip() for c in line.strip('|').split('|')]
        if section == 'class' and cells[0] != 'Class':
            per_class[cells[0]] = tuple(_number(c) for c in cells[1:])
        elif section == 'summary':
            if header is None:
                header = cells
            else:
                summary = dict(zip(header, (_number(c) for c in cells)))
    return per_class, summary


def _same(a, b):
    return (a is None and math.isnan(b)) or a == b


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines += record.getMessage().splitlines()


def test_out_json_equals_printed_table_and_plots(runs, tmp_path):
    cfg, work_dir = runs['0.x']
    logged = _Lines()  # the tables are logged through mmengine's logger
    MMLogger.get_current_instance().addHandler(logged)
    try:
        metrics = run_test([cfg, osp.join(work_dir, 'iter_2.pth'), '--eval',
                            'mIoU', '--out', str(tmp_path / 'res' / 'r.json'),
                            '--plot', str(tmp_path / 'plots')])
    finally:
        MMLogger.get_current_instance().removeHandler(logged)
    per_class, summary = _printed_tables('\n'.join(logged.lines))
    with open(tmp_path / 'res' / 'r.json') as f:
        saved = json.load(f)
    assert saved['network'] == 'student' and saved['data'] == 'data.test'
    assert len(per_class) == 19 and set(saved['per_class']) == set(per_class)
    for name, (iou, acc) in per_class.items():
        assert _same(saved['per_class'][name]['IoU'], iou), name
        assert _same(saved['per_class'][name]['Acc'], acc), name
    assert summary and saved['summary'] == summary
    assert saved['summary']['mIoU'] == metrics['mIoU']
    for name in ('iou_per_class.png', 'confusion_matrix.png'):
        assert osp.getsize(tmp_path / 'plots' / name) > 10000
