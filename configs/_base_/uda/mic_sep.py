# MIC masked image consistency as used for Cityscapes -> ACDC / Dark Zurich.
uda = dict(
    mask_mode='separate',
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(
        type='block', mask_ratio=0.7, mask_block_size=64, _delete_=True))
