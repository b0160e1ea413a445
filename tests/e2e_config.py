"""Tiny end-to-end configs: the toy configs on a small generated set with
64x64 crops, so a few training iterations take seconds on a CPU."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

TEMPLATE = '''
_base_ = [{base!r}]
toy_pretrained = None  # random weights in tests
model = dict(pretrained=None)
toy_data = dict(root={root!r}, seed=0, num_source_train=4, num_source_val=1,
                num_target_train=4, num_target_val=2, num_target_test=2,
                num_prompts=2, num_night_oracle_train=0)
norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            to_rgb=True)
crop_size = (64, 64)
train_src = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(128, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5), dict(type='Normalize', **norm),
    dict(type='Pad', size=crop_size), dict(type='PackSegInputs')]
train_tgt = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(128, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5), dict(type='Normalize', **norm),
    dict(type='Pad', size=crop_size), dict(type='PackSegInputs')]
test = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'), dict(type='Normalize', **norm),
    dict(type='PackSegInputs')]
data = dict(
    train=dict(
        source=dict(data_root={root!r} + '/cityscapes', pipeline=train_src),
        target=dict(data_root={root!r} + '/dark_zurich', pipeline=train_tgt),
        {prompt}rare_class_sampling=dict(min_pixels=10, class_temp=0.1,
                                 min_crop_ratio=0.5)),
    val=dict(data_root={root!r} + '/dark_zurich', pipeline=test),
    test=dict(data_root={root!r} + '/dark_zurich', pipeline=test),
    test_set=dict(data_root={root!r} + '/dark_zurich', pipeline=test))
runner = dict(max_iters={iters})
checkpoint_config = dict(interval={ckpt_interval}, max_keep_ckpts=5)
evaluation = dict(interval={iters})
log_config = dict(interval=1, img_interval={img_interval})
'''

HRDA_EXTRA = '''
model = dict(pretrained=None, hr_crop_size=[32, 32],
             test_cfg=dict(stride=[32, 32], crop_size=[64, 64]))
'''

PROMPT = "prompt=dict(data_root={root!r} + '/prompt', pipeline=train_src),"


def write_tiny_config(tmp_dir: str, toy_config: str, root: str,
                      iters: int = 4, ckpt_interval: int = 2,
                      img_interval: int = 1000, extra: str = '') -> str:
    """A config inheriting ``configs/toy/<toy_config>`` for tiny runs."""
    text = TEMPLATE.format(
        base=osp.join(REPO, 'configs', 'toy', toy_config), root=root,
        iters=iters, ckpt_interval=ckpt_interval, img_interval=img_interval,
        prompt=PROMPT.format(root=root) if 'eglp' in toy_config else '')
    if 'hrda' in toy_config:
        text += HRDA_EXTRA
    path = osp.join(tmp_dir, 'tiny_' + toy_config)
    with open(path, 'w') as f:
        f.write(text + extra)
    return path


CUSTOM_TEMPLATE = '''
_base_ = [{base!r}]
toy_pretrained = None  # random weights in tests
model = dict(pretrained=None, hr_crop_size=[32, 32],
             test_cfg=dict(stride=[32, 32], crop_size=[64, 64]))
norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            to_rgb=True)
crop_size = (64, 64)
train_src = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(128, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5), dict(type='Normalize', **norm),
    dict(type='Pad', size=crop_size), dict(type='PackSegInputs')]
train_tgt = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(128, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5), dict(type='Normalize', **norm),
    dict(type='Pad', size=crop_size), dict(type='PackSegInputs')]
test = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'), dict(type='Normalize', **norm),
    dict(type='PackSegInputs')]
data = dict(
    train=dict(
        source=dict(data_root={root!r} + '/cityscapes', pipeline=train_src),
        target=dict(data_root={root!r} + '/dark_zurich', pipeline=train_tgt),
        rare_class_sampling=dict(stats_dir={stats!r})),
    val=dict(data_root={root!r} + '/dark_zurich', pipeline=test),
    test=dict(data_root={root!r} + '/dark_zurich', pipeline=test))
runner = dict(max_iters={iters})
checkpoint_config = dict(interval={ckpt_interval}, max_keep_ckpts=5)
evaluation = dict(interval={iters})
log_config = dict(interval=1, img_interval={img_interval})
'''


def write_tiny_custom_config(tmp_dir: str, custom_config: str, root: str,
                             stats_dir: str, iters: int = 4,
                             ckpt_interval: int = 2, img_interval: int = 1000,
                             extra: str = '') -> str:
    """A config inheriting ``configs/custom/<custom_config>`` with 64x64
    crops on the toy set at ``root`` (labels converted beforehand)."""
    text = CUSTOM_TEMPLATE.format(
        base=osp.join(REPO, 'configs', 'custom', custom_config), root=root,
        stats=stats_dir, iters=iters, ckpt_interval=ckpt_interval,
        img_interval=img_interval)
    path = osp.join(tmp_dir, 'tiny_' + custom_config)
    with open(path, 'w') as f:
        f.write(text + extra)
    return path
