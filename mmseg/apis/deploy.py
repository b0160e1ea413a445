"""Which network of a run is deployed, and how it is built for inference.

A training checkpoint holds the whole UDA module (student, EMA teacher,
EGLP's NFNet and its teacher, ...). Inference runs one of them: the one
``test_model`` names, else the config's ``uda.test_model``, else the
student. The student is built alone (``cfg.model``) and takes the
checkpoint's ``model.*`` entries (or a published segmentor checkpoint as it
is); any other network builds the UDA wrapper and loads the whole
checkpoint strictly.
"""
from typing import Any, Dict, Optional

from mmseg.errors import ConfigError

# every network some UDA class deploys; each class names its own
# (``DACS.TEST_MODELS``, ``EGLP.TEST_MODELS``)
TEST_MODELS = ('student', 'teacher', 'nfnet', 'nfnet_teacher', 'fusion')


def deployed_network(cfg: Any, test_model: Optional[str] = None) -> str:
    """``test_model``, else ``cfg.uda.test_model``, else ``'student'``.

    A name given here must be one of the ``TEST_MODELS`` of the UDA class
    the config names (DACS: student, teacher; EGLP adds nfnet,
    nfnet_teacher, fusion).

    Raises:
        ConfigError: an unknown name, a name the config's UDA class does not
            deploy, or a network other than the student for a config
            without a ``uda`` section.
    """
    if test_model:
        if test_model not in TEST_MODELS:
            raise ConfigError(f'test_model {test_model!r}: expected one of '
                              f'{", ".join(TEST_MODELS)}')
        uda = cfg.get('uda')
        if test_model != 'student' and not uda:
            raise ConfigError(f'test_model {test_model}: '
                              f'{getattr(cfg, "filename", None) or "the config"}'
                              ' has no uda section')
        if uda:
            from mmseg.registry import MODELS
            from mmseg.utils import register_all_modules
            register_all_modules()
            uda_type = uda.get('type', 'DACS')
            choices = getattr(MODELS.get(uda_type), 'TEST_MODELS', ())
            if test_model not in choices:
                raise ConfigError(f'test_model {test_model}: {uda_type} '
                                  f'deploys one of {", ".join(choices)}')
        return test_model
    return (cfg.get('uda') or {}).get('test_model', 'student')


def without_pretrained(cfg: Any) -> Any:
    """``cfg`` with every nested ``pretrained`` set to None (the weights come
    from the checkpoint)."""
    if isinstance(cfg, dict):
        return {k: None if k == 'pretrained' else without_pretrained(v)
                for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(without_pretrained(v) for v in cfg)
    return cfg


def deployment_cfg(cfg: Any, test_model: str) -> Dict:
    """The model config to build for ``test_model``: ``cfg.model`` for the
    student, the UDA wrapper deploying ``test_model`` otherwise; no
    ``pretrained`` file is read."""
    from mmseg.engine.build import model_cfg_from
    segmentor = without_pretrained(dict(cfg.model.to_dict()
                                        if hasattr(cfg.model, 'to_dict')
                                        else cfg.model))
    if test_model == 'student':
        return segmentor
    uda = without_pretrained(model_cfg_from(cfg))
    uda['model'] = segmentor
    uda['test_model'] = test_model
    return uda
