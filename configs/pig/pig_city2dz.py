# PIG/EGLP released step (methods spec 1.3): Cityscapes -> Dark Zurich night (HR, 1024 crops).
# HRDA(MiT-b5, DAFormer) student + EMA teacher, NFNet + EMA-NFNet trained on
# the labelled night prompt images (data/prompt/{img,gt}), FIS fusion of the
# K=4 least day/night-similar classes (LPIPS-AlexNet, fed mean/std-normalised
# tensors as released), prompt mixture + alternate masking. AdamW without the
# head lr x10 of HRDA. Weight files: pretrained/mit_b5.pth,
# pretrained/alexnet.pth (torchvision alexnet keys) and
# pretrained/lpips_alex_lin.pth (LPIPS v0.1 linear layers).
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/hrda_wrapper.py',
    '../_base_/datasets/uda_cityscapesHR_to_darkzurichHR_1024x1024.py',
    '../_base_/uda/dacs_a999_fdthings.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
]
seed = 2
crop_size = (1024, 1024)
model = dict(
    hr_crop_size=[512, 512],
    test_cfg=dict(
        mode='slide', batched_slide=True, crop_size=[1024, 1024],
        stride=[512, 512]))
prompt_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(1920, 1080), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', mean=[123.675, 116.28, 103.53],
         std=[58.395, 57.12, 57.375], to_rgb=True),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=1,
    train=dict(
        rare_class_sampling=dict(
            min_pixels=3000, class_temp=0.01, min_crop_ratio=2.0),
        target=dict(crop_pseudo_margins=[30, 240, 30, 30]),
        prompt=dict(
            type='PromptDataset',
            data_root='data/prompt',
            img_dir='img',
            ann_dir='gt',
            pipeline=prompt_pipeline)))
optimizer = dict(
    _delete_=True, type='AdamW', lr=6e-05, betas=(0.9, 0.999),
    weight_decay=0.01)
lpips = dict(
    type='LPIPS',
    alexnet_weights='pretrained/alexnet.pth',
    lin_weights='pretrained/lpips_alex_lin.pth',
    input_range='normalized')
uda = dict(
    type='EGLP',
    prompt_mixing=True,
    dms=dict(
        type='DMS',
        mode='hard_pig',
        similarity=dict(metric='lpips', lpips=lpips, ema=None),
        k=4,
        exempt=(6, 7, 15, 16, 17, 18)))
name = 'pig_city2dz'
