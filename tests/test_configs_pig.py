"""The PIG configs (one recipe base, one dataset-with-prompts base each)
resolve to the released settings."""
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# config: (seed, crop, slide stride, target dataset, prompt resize scale)
PIG = {
    'pig_city2nightcity': (0, 512, 256, 'NightCityDataset', (1024, 512)),
    'pig_city2acdc': (2, 1024, 512, 'ACDCDataset', (1920, 1080)),
    'pig_city2dz': (2, 1024, 512, 'DarkZurichDataset', (1920, 1080)),
}


@pytest.mark.parametrize('name', sorted(PIG))
def test_pig_config_resolves_to_the_released_settings(name):
    seed, crop, stride, target, prompt_scale = PIG[name]
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pig', f'{name}.py'))
    assert cfg.name == name and cfg.seed == seed
    assert tuple(cfg.crop_size) == (crop, crop)
    # model: HRDA with 512 detail crops, slide test at the crop size
    assert cfg.model.type == 'HRDAEncoderDecoder'
    assert list(cfg.model.hr_crop_size) == [512, 512]
    assert dict(cfg.model.test_cfg) == dict(
        mode='slide', batched_slide=True, crop_size=[crop, crop],
        stride=[stride, stride])
    # optimiser: AdamW without HRDA's head lr x10
    assert dict(cfg.optimizer) == dict(type='AdamW', lr=6e-05,
                                       betas=(0.9, 0.999), weight_decay=0.01)
    # UDA: DACS a999 + FD on things, EGLP with PIG's FIS
    uda = cfg.uda
    assert uda.type == 'EGLP' and uda.prompt_mixing is True
    assert uda.alpha == 0.999 and uda.imnet_feature_dist_lambda == 0.005
    assert uda.dms.mode == 'hard_pig' and uda.dms.k == 4
    assert tuple(uda.dms.exempt) == (6, 7, 15, 16, 17, 18)
    assert uda.dms.similarity.ema is None
    assert uda.dms.similarity.lpips.input_range == 'normalized'
    # data: the target, RCS, pseudo margins and prompts resized like it
    train = cfg.data.train
    assert train.target.type == target
    assert train.target.crop_pseudo_margins == [30, 240, 30, 30]
    assert dict(train.rare_class_sampling) == dict(
        min_pixels=3000, class_temp=0.01, min_crop_ratio=2.0)
    prompt = train.prompt
    assert prompt.type == 'PromptDataset' and prompt.data_root == \
        'data/prompt'
    steps = {t['type']: t for t in prompt.pipeline}
    assert tuple(steps['Resize']['img_scale']) == prompt_scale
    assert tuple(steps['RandomCrop']['crop_size']) == (crop, crop)
    assert 'LoadAnnotations' in steps
