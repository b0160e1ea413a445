"""Registries of the project, children of mmengine's root registries.

Every registry names ``mmseg.module_index`` as its location, so building any
``type='...'`` from a config imports all of the project's modules first: users
never import modules by hand to make a name resolvable.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

_LOCATIONS = ['mmseg.module_index']

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=_LOCATIONS)
# HRDA builds UDA wrappers from their own registry name; it is the same table.
UDA = MODELS
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=_LOCATIONS)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=_LOCATIONS)
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=_LOCATIONS)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=_LOCATIONS)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=_LOCATIONS)
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=_LOCATIONS)
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=_LOCATIONS)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=_LOCATIONS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=_LOCATIONS)
