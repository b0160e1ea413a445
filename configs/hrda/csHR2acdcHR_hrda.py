_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/hrda_wrapper.py',
    '../_base_/datasets/uda_cityscapesHR_to_acdcHR_1024x1024.py',
    '../_base_/uda/dacs_a999_fdthings.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
]
# HRDA (MiT-b5, DAFormer head, 0.5 context + 512 detail crops), final settings.
seed = 2
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=1,
    train=dict(
        rare_class_sampling=dict(
            min_pixels=3000, class_temp=0.01, min_crop_ratio=2.0)))
name = 'csHR2acdcHR_1024x1024_dacs_a999_fdthings_rcs001-20_hrda1-512-01_daformer_sepaspp_sl_mitb5_poly10warm_s2'
