# MIC(HRDA) on the toy data: HRDA plus masked image consistency.
_base_ = ['toy_hrda_daformer_mitb0.py', '../_base_/uda/mic_sep.py']
uda = dict(mask_generator=dict(mask_block_size=32))
name = 'toy_mic_hrda_daformer_mitb0'
