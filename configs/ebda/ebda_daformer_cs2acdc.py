# EBDA on DAFormer ("Entropy Balancing Strategy for Domain Adaptive Semantic
# Segmentation", released code vron8632/EB_DA): entropy balance loss
# 0.1 * mean (H - 0.4)^2 on a second student pass over the mixed image.
# Released setting: Cityscapes -> ACDC, all four conditions, batch 1, 50k
# iterations, plcrop 15/120, RCS min_crop_ratio 0.5.
_base_ = ['../daformer/cs2acdc_daformer.py']
data = dict(
    samples_per_gpu=1,
    train=dict(target=dict(condition=None)),
    val=dict(condition=None),
    test=dict(condition=None),
    test_set=dict(condition=None))
runner = dict(type='IterBasedRunner', max_iters=50000)
checkpoint_config = dict(by_epoch=False, interval=50000, max_keep_ckpts=1)
evaluation = dict(interval=5000, metric='mIoU')
uda = dict(
    extra_losses=[
        dict(type='EntropyBalance', loss_weight=0.1, target_entropy=0.4)
    ])
name = 'ebda_daformer_cs2acdc'
