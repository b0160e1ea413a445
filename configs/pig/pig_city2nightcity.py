# PIG as released (recipe: ../_base_/uda/pig.py): Cityscapes -> NightCity,
# 512x512 crops.
_base_ = [
    '../_base_/uda/pig.py',
    '../_base_/datasets/uda_cityscapes_to_nightcity_512x512_prompts.py',
]
seed = 0
model = dict(test_cfg=dict(crop_size=[512, 512], stride=[256, 256]))
name = 'pig_city2nightcity'
