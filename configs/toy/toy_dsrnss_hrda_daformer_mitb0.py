# DSRNSS (grouped ClassMix, long-tailed memory bank, prototype alignment) on
# the toy HRDA setting.
_base_ = ['toy_hrda_daformer_mitb0.py']
uda = dict(
    mixer=dict(type='GroupedClassMix', mix_loss_weight=0.8),
    mix_augmenters=[dict(type='LongTailMemoryBank')],
    extra_losses=[
        dict(type='FPA', start_iter=150, mix_weight=0.01, feat_channels=256)
    ])
name = 'toy_dsrnss_hrda_daformer_mitb0'
