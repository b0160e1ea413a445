# EGLP (full) on the toy data: HRDA + NFNet guided by the 4 labelled night
# prompt images, soft dynamic mixing (DMS) with EMA class similarity, prompt
# mixture + alternate masking, and the rare class memory (RCM).
# The toy LPIPS uses random AlexNet/linear weights (no downloads); real runs
# point `alexnet_weights`/`lin_weights` at the files (see configs/pig/).
_base_ = ['toy_hrda_daformer_mitb0.py']
data = dict(
    train=dict(
        prompt=dict(
            type='PromptDataset',
            data_root='data/toy/prompt',
            img_dir='img',
            ann_dir='gt')))  # no pipeline: the source pipeline is used
uda = dict(
    type='EGLP',
    prompt_mixing=True,
    dms=dict(
        type='DMS',
        mode='soft',
        similarity=dict(
            metric='lpips',
            lpips=dict(
                type='LPIPS', pretrained=False,
                input_range='minus_one_one'),
            ema=0.99),
        k=4,
        ramp_iters=100,
        split_ratio_range=(0.3, 0.7),
        mask_prob=0.5),
    mix_augmenters=[
        dict(type='RCM', capacity=32, min_area=16, prob=0.5)
    ])
name = 'toy_eglp_hrda_daformer_mitb0'
