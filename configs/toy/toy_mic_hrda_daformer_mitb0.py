# MIC(HRDA) on the toy data: HRDA plus masked image consistency.
_base_ = ['toy_hrda_daformer_mitb0.py']
uda = dict(
    mask_mode='separate',
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(
        type='block', mask_ratio=0.7, mask_block_size=32, _delete_=True))
name = 'toy_mic_hrda_daformer_mitb0'
