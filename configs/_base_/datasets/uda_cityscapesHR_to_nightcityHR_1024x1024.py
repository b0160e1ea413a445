# Cityscapes (labelled) -> NightCity (unlabelled) with 1024x1024 crops.
# NightCity has no separate test split: test_set is its val split. For
# NightCity+ point ann_dir at its converted labels (e.g. 'gt_plus/val').
# NightCity images are 1024x512: they are upsampled to 2048x1024 to
# match the full-resolution Cityscapes scale.
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
nightcity_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(2048, 1024), keep_ratio=True),
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
    dict(type='Resize', img_scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='PackSegInputs'),
]
nightcity_val = dict(
    type='NightCityDataset',
    data_root='data/nightcity/',
    img_dir='img/val',
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
            type='NightCityDataset',
            data_root='data/nightcity/',
            img_dir='img/train',
            ann_dir=None,
            pipeline=nightcity_train_pipeline)),
    val=nightcity_val,
    test=nightcity_val,
    # the real test split (labels hidden; tools/test.py --test-set)
    test_set=dict(
        type='NightCityDataset',
        data_root='data/nightcity/',
        img_dir='img/val',
        ann_dir='gt/val',
        pipeline=test_pipeline,
        test_mode=True))
