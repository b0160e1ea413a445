# MIC(HRDA): HRDA plus masked image consistency.
_base_ = ['../hrda/csHR2acdcHR_hrda.py']
uda = dict(
    mask_mode='separate',
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(
        type='block', mask_ratio=0.7, mask_block_size=64, _delete_=True))
name = 'csHR2acdcHR_1024x1024_dacs_a999_fdthings_rcs001-20_m64-07-sep_hrda1-512-01_daformer_sepaspp_sl_mitb5_poly10warm_s2'
