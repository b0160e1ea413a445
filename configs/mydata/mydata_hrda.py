# HRDA day -> night on my data: a small MiT-b0 HRDA that trains on a CPU.
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb0.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/toy.py',
]
classes = ('background', 'road', 'vehicle')
palette = [[70, 70, 70], [128, 64, 128], [0, 0, 142]]
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (256, 256)
scale = (512, 256)  # (width, height) images are resized into, aspect kept
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='PackSegInputs'),
]
night_val = dict(
    type='CustomSegDataset',
    data_root='data/mydata',
    img_dir='night_val/images',
    ann_dir='night_val/labels',
    img_suffix='.jpg',
    seg_map_suffix='_labelTrainIds.png',
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
            data_root='data/mydata',
            img_dir='day/images',
            ann_dir='day/labels',
            img_suffix='.jpg',
            seg_map_suffix='_labelTrainIds.png',
            classes=classes,
            palette=palette,
            pipeline=source_pipeline),
        target=dict(
            type='CustomSegDataset',
            data_root='data/mydata',
            img_dir='night/images',
            img_suffix='.jpg',
            classes=classes,
            palette=palette,
            pipeline=target_pipeline),
        rare_class_sampling=dict(
            min_pixels=0.005, class_temp=0.01, min_crop_ratio=0.5)),
    val=night_val,
    test=night_val)
model = dict(decode_head=dict(num_classes=len(classes)))
runner = dict(type='IterBasedRunner', max_iters=2000)
checkpoint_config = dict(by_epoch=False, interval=2000, max_keep_ckpts=1)
evaluation = dict(interval=2000, metric='mIoU')
