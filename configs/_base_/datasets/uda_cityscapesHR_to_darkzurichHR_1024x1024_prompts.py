# Cityscapes -> Dark Zurich night, full resolution, 1024x1024 crops (the base)
# plus the labelled night prompt images (data/prompt/{img,gt}, NightCity
# layout: X.png + X_labelTrainIds.png) resized like the target, rare class
# sampling and HRDA's pseudo-label margins, as PIG/EGLP train.
_base_ = ['uda_cityscapesHR_to_darkzurichHR_1024x1024.py']
crop_size = (1024, 1024)
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
