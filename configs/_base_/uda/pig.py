# The PIG step as released (Xie et al., "PIG: Prompt Images Guidance for
# Night-Time Scene Parsing", TIP 2024; code qiurui4shu/PIG, which EGLP's
# release copies): HRDA(MiT-b5, DAFormer) student + EMA teacher (alpha 0.999,
# ImageNet feature distance on thing classes), NFNet + EMA-NFNet trained on
# the labelled night prompt images, FIS fusion of the K=4 least
# day/night-similar classes (LPIPS-AlexNet fed mean/std-normalised tensors,
# as released), prompt mixture + alternate masking, AdamW without HRDA's
# head lr x10, poly schedule with warm-up. Weight files:
# pretrained/mit_b5.pth, pretrained/alexnet.pth (torchvision alexnet keys),
# pretrained/lpips_alex_lin.pth (LPIPS v0.1 linear layers).
# Not reproduced by default: PIG's LPIPS keeps its lin-layer dropout active
# while training; set lpips.train_dropout=True for that (our default keeps
# the class similarity deterministic).
# A config adds one dataset base with prompt images
# (../datasets/*_prompts.py), its seed and its crop size.
_base_ = [
    '../default_runtime.py',
    '../models/hrda_wrapper.py',
    'dacs_a999_fdthings.py',
    '../schedules/adamw.py',
    '../schedules/poly10warm.py',
]
model = dict(
    hr_crop_size=[512, 512], test_cfg=dict(mode='slide', batched_slide=True))
optimizer = dict(
    _delete_=True, type='AdamW', lr=6e-05, betas=(0.9, 0.999),
    weight_decay=0.01)
lpips = dict(
    type='LPIPS',
    alexnet_weights='pretrained/alexnet.pth',
    lin_weights='pretrained/lpips_alex_lin.pth',
    input_range='normalized')
uda = dict(
    type='EGLP',
    prompt_mixing=True,
    dms=dict(
        type='DMS',
        mode='hard_pig',
        similarity=dict(metric='lpips', lpips=lpips, ema=None),
        k=4,
        exempt=(6, 7, 15, 16, 17, 18)))
