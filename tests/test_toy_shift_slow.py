"""Guard against the toy data drifting: a short source-only run on a freshly generated toy set
must still see a real day-to-night shift (night val mIoU well below day val mIoU).

It checks a property of the data, not that a method wins; see README "Toy data". It trains from
scratch (no toy pretraining) at half resolution for 200 iterations: about 3 minutes on 2 cores.
"""
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


def _config(tmp_path, split, root, iters):
    val_root, val_type, img_dir, ann_dir = SPLITS[split]
    path = tmp_path / f'toy_shift_{split}.py'
    path.write_text(CONFIG.format(
        base=osp.join(REPO, 'configs', 'toy', 'toy_srconly_128_mitb0.py'), root=root,
        val_root=val_root, val_type=val_type, img_dir=img_dir, ann_dir=ann_dir, iters=iters))
    return str(path)


@pytest.mark.slow
def test_source_only_keeps_clearly_less_at_night_than_by_day(tmp_path):
    from tools.test import main as test_main
    from tools.train import main as train_main
    root, work = str(tmp_path / 'toy'), str(tmp_path / 'run')
    iters = 200
    train_main([_config(tmp_path, 'night', root, iters), '--work-dir', work, '--seed', '0',
                '--no-validate'])
    ckpt = osp.join(work, f'iter_{iters}.pth')
    miou = {}
    for split in ('day', 'night'):
        out = str(tmp_path / f'{split}.json')
        test_main([_config(tmp_path, split, root, iters), ckpt, '--eval', 'mIoU', '--out', out])
        with open(out) as f:
            miou[split] = json.load(f)['summary']['mIoU']
    assert miou['day'] > 15, miou  # the day data is learnable in a short run
    assert miou['night'] < 0.8 * miou['day'], miou  # and the night is a real shift
