"""Experiment sweeps as data: ``generate_experiment_cfgs(id)`` returns configs.

Each config is a dict with ``_base_`` (paths relative to ``configs/``), the
keys it overrides, ``name`` (built from the settings) and ``seed``;
``run_experiments.py --exp ID`` writes them to ``configs/generated/`` and
trains them one after another.

IDs:
  1   toy: source-only vs DACS vs HRDA vs MIC(HRDA), seeds 0-2
  2   toy: EGLP ablation (HRDA, +NFNet/FIS with PIG's LPIPS DNIS or the
      prototype DNIS, +PMS/AMS, +DMS, +RCM, full)
  3   toy: DSRNSS and EBDA (compare with the HRDA/DACS runs of id 1)
  8   DAFormer CS->ACDC(night) / CS->Dark Zurich (512 crops)
  40  HRDA GTA->Cityscapes (HR)
  49  HRDA CS->ACDC(night) / CS->Dark Zurich (HR)
  80  MIC(HRDA) on GTA->CS, CS->ACDC, CS->DZ
  90  PIG/EGLP on CS->NightCity, CS->ACDC, CS->DZ
"""
import copy
from typing import Dict, List, Sequence

SEEDS = (0, 1, 2)

# ---------------------------------------------------------------- toy data
TOY_BASE = [
    '_base_/schedules/toy.py',
    '_base_/models/daformer_sepaspp_mitb0.py',
    '_base_/datasets/uda_toy_day_to_night_128x128.py',
    '_base_/uda/dacs.py',
]
# Sweeps use half-resolution toy crops and a shorter schedule than the
# configs in configs/toy/ so that a 3-seed table trains in minutes.
TOY_SWEEP = dict(
    runner=dict(type='IterBasedRunner', max_iters=400),
    checkpoint_config=dict(by_epoch=False, interval=400, max_keep_ckpts=1),
    evaluation=dict(interval=400, metric='mIoU'),
    log_config=dict(interval=50, img_interval=0),
    uda=dict(alpha=0.99))
# Toy stand-in for ImageNet weights (configs/toy/toy_pretrain_mitb0.py): the
# student (and EGLP's NFNet) start from a MiT-B0 backbone trained on a separate
# generated day set; the file is created on first use.
TOY_PRETRAINED = dict(
    model=dict(pretrained='pretrained/toy_mit_b0.pth'),
    toy_pretrained=dict(path='pretrained/toy_mit_b0.pth',
                        config='configs/toy/toy_pretrain_mitb0.py'))
# the HRDA model base is sized for 256 crops; sweeps use 128 crops
TOY_HRDA_BASE = '_base_/models/hrda_daformer_sepaspp_mitb0.py'
TOY_HRDA_MODEL = dict(
    hr_crop_size=[64, 64], test_cfg=dict(stride=[64, 64], crop_size=[128, 128]))
TOY_PROMPT = dict(
    type='PromptDataset',
    data_root='data/toy/prompt',
    img_dir='img',
    ann_dir='gt')

TOY_LPIPS = dict(type='LPIPS', pretrained=False, input_range='minus_one_one')


def merge(base: Dict, override: Dict) -> Dict:
    """``base`` updated recursively with ``override`` (new dicts)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def toy_cfg(method: str, seed: int, overrides: Dict) -> Dict:
    base = list(TOY_BASE)
    if 'model' in overrides:  # HRDA methods
        base[1] = TOY_HRDA_BASE
    cfg = merge(merge(dict(_base_=base, **TOY_SWEEP), TOY_PRETRAINED),
                overrides)
    cfg.update(seed=seed, name=f'toy128_{method}_mitb0_s{seed}')
    return cfg


def toy_method_overrides() -> Dict[str, Dict]:
    hrda = dict(model=TOY_HRDA_MODEL)
    return {
        'srconly': dict(uda=dict(source_only=True)),
        'dacs': {},
        'hrda': hrda,
        'mic-hrda': merge(hrda, dict(uda=dict(
            mask_mode='separate', mask_lambda=1,
            mask_generator=dict(type='block', mask_ratio=0.7,
                                mask_block_size=16, _delete_=True)))),
    }


# Prototype DNIS (our EGLP design): class mean features of the source crop
# (GT) and the target crop (the NFNet teacher's labels) compared on the frozen
# (toy-)ImageNet encoder.
TOY_PROTOTYPE_DNIS = dict(
    metric='prototype',
    prototype=dict(
        type='ClassPrototypeDistance',
        encoder=dict(type='mit_b0', pretrained='pretrained/toy_mit_b0.pth'),
        stage=2))  # 1/16 resolution: 8x8 cells on a 128x128 crop


def eglp_overrides(fusion: bool, pms: bool, dms: bool, rcm: bool,
                   dnis: str = 'prototype', rcm_night: bool = False) -> Dict:
    """EGLP on toy HRDA; each module switched on or off.

    ``dnis``: ``'lpips'`` is PIG's class-masked-image LPIPS (random AlexNet
    weights here), ``'prototype'`` the class-prototype distance.
    ``rcm_night``: RCM also stores prompt objects (as the real EGLP configs)
    and re-colours source objects to the target's night statistics.
    The EGLP rows deploy the NFNet teacher, as the toy EGLP config does
    (``tools/test.py --test-model student`` evaluates their students).
    """
    if not fusion:
        return dict(model=TOY_HRDA_MODEL)
    similarity = (dict(TOY_PROTOTYPE_DNIS) if dnis == 'prototype' else
                  dict(metric='lpips', lpips=TOY_LPIPS))
    similarity['ema'] = 0.99 if dms else None
    dms_cfg = dict(
        type='DMS',
        mode='soft' if dms else 'hard_pig',
        similarity=similarity,
        k=4)
    uda = dict(type='EGLP', prompt_mixing=pms, dms=dms_cfg,
               test_model='nfnet_teacher')
    if dms:
        dms_cfg.update(ramp_iters=100)
        uda['prompt_policy'] = dict(split_ratio_range=(0.3, 0.7),
                                    mask_prob=0.5)
    if rcm:
        rcm_cfg = dict(type='RCM', min_area=8, prob=0.5)
        if rcm_night:
            rcm_cfg.update(use_prompt=True, night_style=True)
        uda['mix_augmenters'] = [rcm_cfg]
    return dict(
        model=TOY_HRDA_MODEL,
        uda=uda,
        data=dict(train=dict(prompt=TOY_PROMPT)))


EGLP_ABLATION = [
    ('hrda', dict(fusion=False, pms=False, dms=False, rcm=False)),
    ('nfnet-fis-lpips',
     dict(fusion=True, pms=False, dms=False, rcm=False, dnis='lpips')),
    ('nfnet-fis', dict(fusion=True, pms=False, dms=False, rcm=False)),
    ('pms-ams', dict(fusion=True, pms=True, dms=False, rcm=False)),
    ('dms', dict(fusion=True, pms=True, dms=True, rcm=False)),
    ('rcm', dict(fusion=True, pms=True, dms=False, rcm=True)),
    ('eglp-full', dict(fusion=True, pms=True, dms=True, rcm=True)),
    ('eglp-full-rcm-night',
     dict(fusion=True, pms=True, dms=True, rcm=True, rcm_night=True)),
]


def other_method_overrides() -> Dict[str, Dict]:
    hrda = dict(model=TOY_HRDA_MODEL)
    return {
        'dsrnss-hrda': merge(hrda, dict(uda=dict(
            mixer=dict(type='GroupedClassMix', mix_loss_weight=0.8),
            mix_augmenters=[dict(type='LongTailMemoryBank')],
            extra_losses=[dict(type='FPA', start_iter=100,
                               mix_weight=0.01, feat_channels=256)]))),
        'ebda-hrda': merge(hrda, dict(uda=dict(
            extra_losses=[dict(type='EntropyBalance')]))),
        'ebda-dacs': dict(uda=dict(
            extra_losses=[dict(type='EntropyBalance')])),
    }


# ------------------------------------------------------------- real data
def real_cfg(config: str, seed: int, **overrides) -> Dict:
    """A run of a method config of ``configs/`` with another seed."""
    stem = config.rsplit('/', 1)[-1][:-3]
    cfg = merge(dict(_base_=[config]), overrides)
    cfg.update(seed=seed, name=f'{stem}_s{seed}')
    return cfg


REAL_SWEEPS = {
    8: ['daformer/cs2acdc_daformer.py', 'daformer/cs2dzur_daformer.py'],
    40: ['hrda/gtaHR2csHR_hrda.py'],
    49: ['hrda/csHR2acdcHR_hrda.py', 'hrda/csHR2dzurHR_hrda.py'],
    80: ['mic/gtaHR2csHR_mic_hrda.py', 'mic/csHR2acdcHR_mic_hrda.py',
         'mic/csHR2dzurHR_mic_hrda.py'],
    90: ['pig/pig_city2nightcity.py', 'pig/pig_city2acdc.py',
         'pig/pig_city2dz.py'],
}


def generate_experiment_cfgs(exp_id: int,
                             seeds: Sequence[int] = SEEDS) -> List[Dict]:
    """All configs of sweep ``exp_id`` (see the module docstring), one per
    method and seed of ``seeds``."""
    if exp_id == 1:
        return [
            toy_cfg(method, seed, overrides)
            for method, overrides in toy_method_overrides().items()
            for seed in seeds
        ]
    if exp_id == 2:
        return [
            toy_cfg(name, seed, eglp_overrides(**flags))
            for name, flags in EGLP_ABLATION for seed in seeds
        ]
    if exp_id == 3:
        return [
            toy_cfg(method, seed, overrides)
            for method, overrides in other_method_overrides().items()
            for seed in seeds
        ]
    if exp_id in REAL_SWEEPS:
        return [
            real_cfg(config, seed) for config in REAL_SWEEPS[exp_id]
            for seed in seeds
        ]
    raise ValueError(f'unknown experiment id {exp_id}; known: 1, 2, 3, '
                     f'{", ".join(map(str, sorted(REAL_SWEEPS)))}')
