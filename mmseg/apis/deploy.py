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

from mmseg.config import ConfigError

TEST_MODELS = ('student', 'teacher', 'nfnet', 'nfnet_teacher', 'fusion')


def deployed_network(cfg: Any, test_model: Optional[str] = None) -> str:
    """``test_model``, else ``cfg.uda.test_model``, else ``'student'``.

    Raises:
        ConfigError: an unknown name, or a network other than the student
            for a config without a ``uda`` section.
    """
    if test_model:
        if test_model not in TEST_MODELS:
            raise ConfigError(f'test_model {test_model!r}: expected one of '
                              f'{", ".join(TEST_MODELS)}')
        if test_model != 'student' and not cfg.get('uda'):
            raise ConfigError(f'test_model {test_model}: '
                              f'{getattr(cfg, "filename", None) or "the config"}'
                              ' has no uda section')
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
