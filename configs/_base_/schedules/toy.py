# Short CPU schedule and runtime for the toy data: AdamW with the HRDA parameter groups,
# poly decay with a short warm-up.
_base_ = ['../default_runtime.py', 'adamw.py', 'poly10warm.py']
optimizer = dict(lr=6e-4)
lr_config = dict(warmup_iters=50)
runner = dict(type='IterBasedRunner', max_iters=600)
checkpoint_config = dict(by_epoch=False, interval=600, max_keep_ckpts=1)
evaluation = dict(interval=600, metric='mIoU')
log_config = dict(interval=50, img_interval=300)
cudnn_benchmark = False
