# DSRNSS on HRDA (Pan et al., arXiv 2310.04747; released code
# Rorisis/DSRNSS_codes): grouped ClassMix with co-occurrence rules
# (mixed loss x0.8), the long-tailed memory bank of rider/truck/bus/motorcycle/
# bicycle (3 batches, pasted every 5th iteration after the strong augmentation,
# as released) and feature prototype alignment (tau 0.1, weights 0.1/0.1,
# source-vs-mix 1/100, target features without gradient) from iteration
# 4832. Released settings otherwise: batch 4, slide 1080/420. Refign is
# not included (see the spec: it needs UAWarpC weights and a CUDA op).
_base_ = ['../hrda/csHR2dzurHR_hrda.py']
data = dict(samples_per_gpu=4)
model = dict(
    test_cfg=dict(
        mode='slide', batched_slide=True, crop_size=[1080, 1080],
        stride=[420, 420]))
uda = dict(
    mixer=dict(type='GroupedClassMix', classes_from='sample',
               mix_loss_weight=0.8),
    mix_augmenters=[
        dict(type='LongTailMemoryBank', classes=(12, 14, 15, 17, 18),
             capacity=3, paste_interval=5, paste_after_aug=True,
             reset_weight=False)
    ],
    extra_losses=[
        dict(type='FPA', start_iter=4832, num_samples=2, mix_weight=0.01,
             tau=0.1, detach_target_feats=True, feat_channels=512)
    ])
name = 'dsrnss_hrda_cs2dzur'
