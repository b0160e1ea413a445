# EGLP with its modules (named in the README of loseurname/EGLP, whose code
# releases only PIG's step, so their design is ours) on top of the released
# step: soft dynamic mixing (DMS) with an EMA of the class similarity, LPIPS on
# correctly scaled [-1, 1] inputs, random prompt split and masking probability,
# and the rare class memory (RCM) pasting rare/small objects from source and
# prompt labels before the strong augmentation.
_base_ = ['pig_city2dz.py']
uda = dict(
    dms=dict(
        mode='soft',
        similarity=dict(
            ema=0.99, lpips=dict(input_range='minus_one_one')),
        ramp_iters=4000),
    prompt_policy=dict(split_ratio_range=(0.3, 0.7), mask_prob=0.5),
    mix_augmenters=[
        dict(type='RCM', capacity=32, min_area=256, prob=0.5,
             use_prompt=True)
    ])
name = 'eglp_city2dz'
