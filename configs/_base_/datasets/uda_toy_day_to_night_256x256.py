# The embedded toy UDA set (tools/make_toy_data.py, generated on first use):
# labelled synthetic day scenes in the Cityscapes layout -> unlabelled night
# scenes in the Dark Zurich layout (labelled val split), plus night prompts.
toy_data = dict(root='data/toy', seed=0)
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
toy_night_val = dict(
    type='DarkZurichDataset',
    data_root='data/toy/dark_zurich',
    img_dir='rgb_anon/val/night',
    ann_dir='gt/val/night',
    pipeline=test_pipeline)
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=0,
    train=dict(
        type='UDADataset',
        source=dict(
            type='CityscapesDataset',
            data_root='data/toy/cityscapes',
            img_dir='leftImg8bit/train',
            ann_dir='gtFine/train',
            pipeline=source_pipeline),
        target=dict(
            type='DarkZurichDataset',
            data_root='data/toy/dark_zurich',
            img_dir='rgb_anon/train/night',
            ann_dir=None,
            pipeline=target_pipeline),
        rare_class_sampling=dict(
            min_pixels=100, class_temp=0.1, min_crop_ratio=0.5)),
    val=toy_night_val,
    test=toy_night_val,
    test_set=dict(
        type='DarkZurichDataset',
        data_root='data/toy/dark_zurich',
        img_dir='rgb_anon/test/night',
        ann_dir=None,
        pipeline=test_pipeline))
