# Second UDA stage with SeCo labels on the toy data: fine-tune a trained toy
# HRDA run where the SeCo-corrected target labels (tools/seco/, written to
# work_dirs/seco/scc) replace the online pseudo-labels. Start it with
#   python tools/train.py configs/toy/toy_seco_hrda_daformer_mitb0.py \
#       --load-from work_dirs/<toy hrda run>/iter_600.pth
_base_ = ['toy_hrda_daformer_mitb0.py']
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSeCoLabel', label_dir='work_dirs/seco/scc'),
    dict(type='Resize', img_scale=(512, 256), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(256, 256)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', mean=[123.675, 116.28, 103.53],
         std=[58.395, 57.12, 57.375], to_rgb=True),
    dict(type='Pad', size=(256, 256), pad_val=0, seg_pad_val=255),
    dict(type='PackSegInputs'),
]
data = dict(train=dict(target=dict(pipeline=target_pipeline)))
uda = dict(refiners=[dict(type='SeCoLabels')])
runner = dict(type='IterBasedRunner', max_iters=300)
lr_config = dict(warmup_iters=0)
checkpoint_config = dict(by_epoch=False, interval=300, max_keep_ckpts=1)
evaluation = dict(interval=300, metric='mIoU')
name = 'toy_seco_hrda_daformer_mitb0'
