# MIC(DAFormer): DAFormer plus masked image consistency (32 px blocks for 512 crops).
_base_ = ['../daformer/cs2dzur_daformer.py']
uda = dict(
    mask_mode='separate',
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(
        type='block', mask_ratio=0.7, mask_block_size=32, _delete_=True))
name = 'cs2dzur_dacs_a999_fdthings_rcs001_cpl_m32-07_daformer_sepaspp_mitb5_poly10warm_s0'
