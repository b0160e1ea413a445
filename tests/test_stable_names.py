"""What moving a module must not change: the names configs use (registered
types) and the keys checkpoints hold (state-dict keys of the toy UDA
models), recorded before the UDA parts moved into per-method folders, so a
config or checkpoint written before the move still builds and loads."""
import hashlib
import os.path as osp

import pytest
from mmengine.config import Config

import mmseg.registry as registries
from mmseg.engine.build import model_cfg_from
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# our registries' names when the parts moved (mmengine's parents are not
# ours to pin); names added later need not be listed
REGISTERED = {
    'MODELS': [
        'ClassMix', 'ClassPrototypeDistance', 'CrossEntropyLoss', 'DACS',
        'DAFormerHead', 'DISTS', 'DLV2Head', 'DMS', 'EGLP', 'EncoderDecoder',
        'EntropyBalance', 'FIS', 'FPA', 'GroupedClassMix',
        'HRDAEncoderDecoder', 'HRDAHead', 'ImageNetFeatureDistance', 'LPIPS',
        'LongTailMemoryBank', 'MIC', 'MixVisionTransformer', 'RCM',
        'ResNetV1c', 'SeCoLabels', 'SegFormerHead', 'mit_b0', 'mit_b1',
        'mit_b2', 'mit_b3', 'mit_b4', 'mit_b5'],
    'DATASETS': [
        'ACDCDataset', 'BDD100kNightDataset', 'CityscapesDataset',
        'CustomSegDataset', 'DarkZurichDataset', 'GTADataset',
        'NightCityDataset', 'NighttimeDrivingDataset', 'PromptDataset',
        'SynthiaDataset', 'UDADataset'],
    'TRANSFORMS': [
        'AddValidPseudoMask', 'LoadAnnotations', 'LoadImageFromFile',
        'LoadSeCoLabel', 'Normalize', 'PackSegInputs', 'Pad',
        'PhotoMetricDistortion', 'RandomCrop', 'RandomFlip', 'Resize'],
    'HOOKS': ['FiniteLossHook', 'SafeCheckpointHook', 'UDADebugImageHook'],
    'METRICS': ['IoUMetric'],
    'LOOPS': ['SeededIterBasedTrainLoop'],
    'DATA_SAMPLERS': ['SeededInfiniteSampler'],
    'FUNCTIONS': ['seg_collate'],
    'MODEL_WRAPPERS': ['UDADataParallel'],
    'OPTIM_WRAPPERS': ['MixedPrecisionOptimWrapper'],
    'OPTIM_WRAPPER_CONSTRUCTORS': ['TrainableOptimWrapperConstructor'],
    'PARAM_SCHEDULERS': ['PolyLRWithWarmup'],
}

# configs/toy/<name>: (number of state-dict entries, sha256 of the sorted
# "key shape" lines, first 16 hex digits)
STATE_DICT_KEYS = {
    'toy_dacs_daformer_mitb0.py': (469, 'f28fa041d8a3d172'),
    'toy_dsrnss_hrda_daformer_mitb0.py': (502, '419471b5c86ba063'),
    'toy_ebda_hrda_daformer_mitb0.py': (501, '38ba448dec397efa'),
    'toy_eglp_hrda_daformer_mitb0.py': (1181, '6da02379bf719790'),
    'toy_hrda_daformer_mitb0.py': (501, '38ba448dec397efa'),
    'toy_mic_hrda_daformer_mitb0.py': (501, '38ba448dec397efa'),
    'toy_seco_hrda_daformer_mitb0.py': (501, '38ba448dec397efa'),
    'toy_srconly_daformer_mitb0.py': (235, 'a62a70416c325f75'),
}


def _without_weight_files(node):
    if isinstance(node, dict):
        return {k: None if k == 'pretrained' else _without_weight_files(v)
                for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(_without_weight_files(v) for v in node)
    return node


def _describe(value) -> str:
    if hasattr(value, 'shape'):
        return str(tuple(value.shape))
    if isinstance(value, dict):  # a part's extra state
        return 'dict' + str(sorted(value))
    return type(value).__name__


def test_registered_names_are_unchanged():
    register_all_modules()
    for name, registered in REGISTERED.items():
        missing = set(registered) - set(getattr(registries, name).module_dict)
        assert not missing, (name, sorted(missing))


@pytest.mark.parametrize('name', sorted(STATE_DICT_KEYS))
def test_checkpoint_keys_of_the_toy_uda_models_are_unchanged(name):
    register_all_modules()
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'toy', name))
    model = MODELS.build(_without_weight_files(model_cfg_from(cfg)))
    lines = sorted(f'{k} {_describe(v)}'
                   for k, v in model.state_dict().items())
    digest = hashlib.sha256('\n'.join(lines).encode()).hexdigest()[:16]
    assert (len(lines), digest) == STATE_DICT_KEYS[name], '\n'.join(lines)
