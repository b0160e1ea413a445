# PIG as released (recipe: ../_base_/uda/pig.py): Cityscapes -> ACDC night,
# full resolution, 1024x1024 crops.
_base_ = [
    '../_base_/uda/pig.py',
    '../_base_/datasets/uda_cityscapesHR_to_acdcHR_1024x1024_prompts.py',
]
seed = 2
model = dict(test_cfg=dict(crop_size=[1024, 1024], stride=[512, 512]))
name = 'pig_city2acdc'
