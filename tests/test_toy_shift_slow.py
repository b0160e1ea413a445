"""Guard against the toy data drifting: short source-only and HRDA runs on a freshly generated
toy set must still see a real day-to-night shift (night val mIoU well below day val mIoU), and
the HRDA teacher must find the night neither unreadable nor trivial (a part of its target
pixels, not none and not all, is confident enough for a pseudo-label).

They check properties of the data, not that a method wins; see README "Toy data". Each trains
from scratch (no toy pretraining) at half resolution for 200 iterations: about 2-4 minutes on
2 cores.
"""
import glob
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIG = '''
_base_ = [{base!r}]
toy_pretrained = None  # from scratch: the test must not depend on pretrained/
model = dict(pretrained=None)
toy_data = dict(root={root!r}, seed=0, num_source_train=48, num_source_val=12,
                num_target_train=4, num_target_val=12, num_target_test=0, num_prompts=0,
                num_night_oracle_train=0)
data = dict(
    samples_per_gpu=4,
    train=dict(source=dict(data_root={root!r} + '/cityscapes'),
               target=dict(data_root={root!r} + '/dark_zurich')),
    val=dict(data_root={root!r} + '/{val_root}', type={val_type!r}, img_dir={img_dir!r},
             ann_dir={ann_dir!r}),
    test=dict(data_root={root!r} + '/{val_root}', type={val_type!r}, img_dir={img_dir!r},
              ann_dir={ann_dir!r}))
optimizer = dict(lr=1e-3)
runner = dict(max_iters={iters})
checkpoint_config = dict(interval={iters}, max_keep_ckpts=1)
evaluation = dict(interval={iters})
log_config = dict(interval=50, img_interval=0)
'''
SPLITS = dict(night=('dark_zurich', 'DarkZurichDataset', 'rgb_anon/val/night', 'gt/val/night'),
              day=('cityscapes', 'CityscapesDataset', 'leftImg8bit/val', 'gtFine/val'))


# HRDA on the half-resolution toy crops, as experiments.py's sweeps train it
HRDA_128 = '''
_base_ = [{model!r}, {data!r}, {uda!r}, {schedule!r}]
model = dict(hr_crop_size=[64, 64], test_cfg=dict(stride=[64, 64], crop_size=[128, 128]))
uda = dict(alpha=0.99)
'''


def _base_config(tmp_path, method):
    if method == 'srconly':
        return osp.join(REPO, 'configs', 'toy', 'toy_srconly_128_mitb0.py')
    base = osp.join(REPO, 'configs', '_base_')
    path = tmp_path / 'toy_hrda_128.py'
    path.write_text(HRDA_128.format(
        model=osp.join(base, 'models', 'hrda_daformer_sepaspp_mitb0.py'),
        data=osp.join(base, 'datasets', 'uda_toy_day_to_night_128x128.py'),
        uda=osp.join(base, 'uda', 'dacs.py'), schedule=osp.join(base, 'schedules', 'toy.py')))
    return str(path)


def _config(tmp_path, split, root, iters, method='srconly'):
    val_root, val_type, img_dir, ann_dir = SPLITS[split]
    path = tmp_path / f'toy_shift_{method}_{split}.py'
    path.write_text(CONFIG.format(
        base=_base_config(tmp_path, method), root=root,
        val_root=val_root, val_type=val_type, img_dir=img_dir, ann_dir=ann_dir, iters=iters))
    return str(path)


def _train_and_evaluate(tmp_path, method, iters=200):
    """Train ``method`` from scratch; returns its day and night val mIoU and its work dir."""
    from tools.test import main as test_main
    from tools.train import main as train_main
    root, work = str(tmp_path / 'toy'), str(tmp_path / f'run_{method}')
    train_main([_config(tmp_path, 'night', root, iters, method), '--work-dir', work,
                '--seed', '0', '--no-validate'])
    ckpt = osp.join(work, f'iter_{iters}.pth')
    miou = {}
    for split in ('day', 'night'):
        out = str(tmp_path / f'{method}_{split}.json')
        test_main([_config(tmp_path, split, root, iters, method), ckpt, '--eval', 'mIoU',
                   '--out', out])
        with open(out) as f:
            miou[split] = json.load(f)['summary']['mIoU']
    return miou, work


def _logged(work, key):
    """Every value of ``key`` in the run's ``scalars.json`` (one JSON object per line)."""
    values = []
    for path in glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            values += [json.loads(line)[key] for line in f if key in json.loads(line)]
    return values


@pytest.mark.slow
def test_source_only_keeps_clearly_less_at_night_than_by_day(tmp_path):
    miou, _ = _train_and_evaluate(tmp_path, 'srconly')
    assert miou['day'] > 15, miou  # the day data is learnable in a short run
    assert miou['night'] < 0.8 * miou['day'], miou  # and the night is a real shift


@pytest.mark.slow
def test_hrda_short_run_keeps_the_shift_and_finds_part_of_the_night_confident(tmp_path):
    miou, work = _train_and_evaluate(tmp_path, 'hrda')
    assert miou['day'] > 15, miou
    assert miou['night'] < 0.8 * miou['day'], miou  # a short run does not erase the shift
    confident = _logged(work, 'pseudo.confident_fraction')
    assert confident, 'the run logged no pseudo.confident_fraction'
    # the night is neither unreadable to the teacher nor trivially certain
    assert 0.05 < confident[-1] < 0.95, confident
