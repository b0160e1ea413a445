# Stand-in for ImageNet pretraining on the toy data (the real methods start from
# ImageNet-pretrained encoders, which cannot be downloaded here). MiT-B0 with the
# small DAFormer head is trained supervised on a separate generated *day* set
# (seed 1000: other scenes than the toy UDA set; no night images, no prompts).
# Only its backbone is kept: tools/make_toy_pretrained.py writes it to
# pretrained/toy_mit_b0.pth in the SegFormer key layout, and toy configs with
# ``toy_pretrained = dict(...)`` create that file on first use.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb0.py',
    # for test_pipeline (the toy images at half resolution); its UDA data
    # section is replaced below
    '../_base_/datasets/uda_toy_day_to_night_128x128.py',
    '../_base_/schedules/toy.py',
]
toy_data = dict(
    _delete_=True,
    root='data/toy_pretrain',
    seed=1000,
    num_source_train=96,
    num_source_val=8,
    num_target_train=0,
    num_target_val=0,
    num_target_test=0,
    num_prompts=0,
    num_night_oracle_train=0)
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(256, 128), ratio_range=(0.75, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
day_val = dict(
    type='CityscapesDataset',
    data_root='data/toy_pretrain/cityscapes',
    img_dir='leftImg8bit/val',
    ann_dir='gtFine/val',
    pipeline={{_base_.test_pipeline}})
data = dict(
    _delete_=True,
    samples_per_gpu=4,
    workers_per_gpu=0,
    train=dict(
        type='CityscapesDataset',
        data_root='data/toy_pretrain/cityscapes',
        img_dir='leftImg8bit/train',
        ann_dir='gtFine/train',
        pipeline=train_pipeline),
    val=day_val,
    test=day_val)
runner = dict(type='IterBasedRunner', max_iters=1500)
checkpoint_config = dict(by_epoch=False, interval=1500, max_keep_ckpts=1)
evaluation = dict(interval=1500, metric='mIoU')
log_config = dict(interval=100, img_interval=0)
name = 'toy_pretrain_mitb0'
