# Your own class set, shown on the toy data: the 19 toy classes merged into 5
# (configs/custom/toy5_mapping.json), day -> night with HRDA. Everything that
# knows classes (heads, metric, tables, plots, legends, rare class sampling)
# follows `classes` and `palette` below; the heads' num_classes must match.
# Labels: written by tools/convert_datasets/custom.py (docs/custom_dataset.md).
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb0.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/toy.py',
]
classes = ('flat', 'construction', 'nature and sky', 'vehicle',
           'human and object')
palette = [[128, 64, 128], [70, 70, 70], [107, 142, 35], [0, 0, 142],
           [220, 20, 60]]
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (256, 256)
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(512, 256), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(512, 256), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(512, 256), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='PackSegInputs'),
]
night_val = dict(
    type='CustomSegDataset',
    data_root='data/toy/dark_zurich',
    img_dir='rgb_anon/val/night',
    ann_dir='gt/val/night',
    img_suffix='_rgb_anon.png',
    seg_map_suffix='_gt_toy5.png',
    classes=classes,
    palette=palette,
    pipeline=test_pipeline)
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=0,
    train=dict(
        type='UDADataset',
        source=dict(
            type='CustomSegDataset',
            data_root='data/toy/cityscapes',
            img_dir='leftImg8bit/train',
            ann_dir='gtFine/train',
            img_suffix='_leftImg8bit.png',
            seg_map_suffix='_gtFine_toy5.png',
            classes=classes,
            palette=palette,
            pipeline=source_pipeline),
        target=dict(
            type='CustomSegDataset',
            data_root='data/toy/dark_zurich',
            img_dir='rgb_anon/train/night',
            img_suffix='_rgb_anon.png',
            classes=classes,
            palette=palette,
            pipeline=target_pipeline),
        # min_pixels below 1: a fraction of the training crop
        rare_class_sampling=dict(
            min_pixels=0.002, class_temp=0.1, min_crop_ratio=0.5,
            stats_dir='data/toy/cityscapes/toy5')),
    val=night_val,
    test=night_val)
model = dict(
    pretrained='pretrained/toy_mit_b0.pth',
    decode_head=dict(num_classes=len(classes)))
# The toy stand-in for ImageNet weights, created on first use.
toy_pretrained = dict(
    path='pretrained/toy_mit_b0.pth',
    config='configs/toy/toy_pretrain_mitb0.py')
name = 'toy5_hrda_daformer_mitb0'
