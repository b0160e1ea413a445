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

# Children of the remaining mmengine registries the runner builds from, so that
# building with the ``mmseg`` scope never falls back with a warning.
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR  # noqa: E402
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS  # noqa
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS  # noqa
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS  # noqa
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS  # noqa: E402
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS  # noqa: E402
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS  # noqa
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS  # noqa
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS  # noqa: E402

EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR)
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS)
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS)
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS)
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS)
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS)
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS)
