# Cityscapes (labelled) -> Dark Zurich night (unlabelled) at full resolution, 1024x1024 crops (HRDA).
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (1024, 1024)
cityscapes_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(2048, 1024), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    # PhotoMetricDistortion is not used: the UDA step applies its own
    # colour augmentation on the GPU.
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
darkzurich_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(1920, 1080), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    # PhotoMetricDistortion is not used: the UDA step applies its own
    # colour augmentation on the GPU.
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
# Single scale, no flip; labels are loaded after Resize so they keep the
# original resolution (predictions are resized back to it).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='PackSegInputs'),
]
darkzurich_val = dict(
    type='DarkZurichDataset',
    data_root='data/dark_zurich/',
    img_dir='rgb_anon/val',
    ann_dir='gt/val',
    pipeline=test_pipeline,
    test_mode=True)
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=1,
    train=dict(
        type='UDADataset',
        source=dict(
            type='CityscapesDataset',
            data_root='data/cityscapes/',
            img_dir='leftImg8bit/train',
            ann_dir='gtFine/train',
            pipeline=cityscapes_train_pipeline),
        target=dict(
            type='DarkZurichDataset',
            data_root='data/dark_zurich/',
            img_dir='rgb_anon/train/night',
            ann_dir=None,
            pipeline=darkzurich_train_pipeline)),
    val=darkzurich_val,
    test=darkzurich_val,
    # the real test split (labels hidden; tools/test.py --test-set)
    test_set=dict(
        type='DarkZurichDataset',
        data_root='data/dark_zurich/',
        img_dir='rgb_anon/test/night',
        ann_dir=None,
        pipeline=test_pipeline,
        test_mode=True))
