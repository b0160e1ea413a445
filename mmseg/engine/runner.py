"""mmengine ``Runner`` with safe checkpoint loading and exact resume.

Differences from the stock runner:

* checkpoints are read with ``torch.load(weights_only=True)`` and an
  allow-list (:mod:`mmseg.utils.checkpoint_io`); ``trust_checkpoint=True``
  is the explicit opt-in for full unpickling of a trusted file;
* the message hub's history buffers are stored as plain arrays, so training
  checkpoints stay loadable with ``weights_only=True``;
* the RNG states of python, numpy and torch are saved and restored on resume,
  so a resumed run continues the same trajectory (one state per rank);
* the terminal shows one line for the environment, config and hook order,
  which go to the log file only (:mod:`mmseg.engine.console`).
* ``load_from`` fits the checkpoint onto the model
  (:mod:`mmseg.engine.checkpoint_fit`: a published segmentor initialises the
  UDA student) or stops naming the file when too few tensors match; a resume
  needs a training checkpoint that fits exactly, and ``resume=True`` with no
  checkpoint to resume from is an error, never a silent fresh start.
* distributed runs start their process group, wrap the model and keep
  per-rank RNG states through :mod:`mmseg.engine.distributed`.
"""
import os.path as osp
import random
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmseg.engine.console import (console_handlers, drop_file_only_records,
                                  drop_mmengine_noise)
from mmseg.utils.checkpoint_io import (CheckpointLoadError,
                                       extract_state_dict,
                                       load_checkpoint_file)

from .checkpoint_fit import fit_state_dict
from .resume_point import latest_checkpoint, require_training_checkpoint
from . import distributed

_BUFFER_TAG = '__history_buffer__'


def plain_message_hub(state: Dict[str, Any]) -> Dict[str, Any]:
    """Replace the ``HistoryBuffer`` objects of a message-hub state dict."""
    scalars = {}
    for key, buf in state.get('log_scalars', {}).items():
        log, count = buf.data
        scalars[key] = {
            _BUFFER_TAG: True,
            'log': torch.as_tensor(np.asarray(log, dtype=np.float64)),
            'count': torch.as_tensor(np.asarray(count, dtype=np.float64)),
            'max_length': int(buf.max_length),
        }
    return dict(state, log_scalars=scalars)


def restore_message_hub(state: Dict[str, Any]) -> Dict[str, Any]:
    """Inverse of :func:`plain_message_hub`."""
    scalars = {}
    for key, value in state.get('log_scalars', {}).items():
        if isinstance(value, dict) and value.get(_BUFFER_TAG):
            value = HistoryBuffer(value['log'].numpy().tolist(),
                                  value['count'].numpy().tolist(),
                                  value['max_length'])
        scalars[key] = value
    return dict(state, log_scalars=scalars)


def capture_rng_state() -> Dict[str, Any]:
    """RNG states of python, numpy and torch as checkpoint-safe values."""
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state()
    return {
        'python': [py_version, list(py_state), py_gauss],
        'numpy': [
            np_state[0],
            torch.from_numpy(np_state[1].astype(np.int64)), np_state[2],
            np_state[3], np_state[4]
        ],
        'torch': torch.get_rng_state(),
        'cuda': (torch.cuda.get_rng_state_all()
                 if torch.cuda.is_available() else []),
    }


def apply_rng_state(state: Dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    version, py_state, gauss = state['python']
    random.setstate((version, tuple(py_state), gauss))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state(
        (name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if state.get('cuda') and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class SegRunner(Runner):
    """Runner of this project (see the module docstring)."""

    def __init__(self, *args, trust_checkpoint: bool = False,
                 compile_networks: Union[bool, Dict[str, Any]] = False,
                 environment: Optional[str] = None,
                 **kwargs):
        self.trust_checkpoint = trust_checkpoint
        self._resumed_rng_state: Optional[Dict[str, Any]] = None
        self._resuming = False
        self._rank_rng_states: Optional[list] = None
        super().__init__(*args, **kwargs)
        if compile_networks:  # the networks, not mmengine's train_step
            from mmseg.models.utils.compiling import compile_networks as run
            run(self.model.module if is_model_wrapper(self.model)
                else self.model, compile_networks)
        name = osp.basename(self.cfg.filename) if self.cfg.filename else None
        dump = f'config {osp.join(self.work_dir, name)}; ' if name else ''
        self.logger.info(f'{dump}environment, config and hooks: '
                         f'{osp.join(self.log_dir, self.timestamp)}.log')
        if environment:  # threads, allocator, precision (build.py)
            self.logger.info(f'environment: {environment}')

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        logger.addFilter(drop_mmengine_noise)
        for handler in console_handlers(logger):
            handler.addFilter(drop_file_only_records)
        return logger

    @classmethod
    def from_cfg(cls, cfg) -> 'SegRunner':
        runner = super().from_cfg(cfg)
        runner.trust_checkpoint = bool(cfg.get('trust_checkpoint', False))
        return runner

    # ------------------------------------------------ distributed glue
    def setup_env(self, env_cfg: Dict) -> None:
        if self._distributed and not distributed.is_distributed():
            distributed.init_distributed(self.launcher,
                                         env_cfg.get('dist_cfg'))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: Optional[Dict], model):
        if model_wrapper_cfg is not None or is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        loader = self._train_dataloader
        if isinstance(loader, dict) and 'batch_size' in loader:
            self.logger.info(
                distributed.describe_global_batch(loader['batch_size']))
        from mmengine.device import get_device
        return distributed.wrap_for_data_parallel(model, get_device())

    def _init_model_weights(self) -> None:
        # the stock method broadcasts every state-dict value, which fails on
        # the plain-value extra states (iteration counter, plug-in state)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        if hasattr(model, 'init_weights'):
            model.init_weights()
            distributed.broadcast_module_state(model)

    def save_checkpoint(self, *args, **kwargs) -> None:
        # every rank passes here; the stock method writes on rank 0 only
        self._rank_rng_states = distributed.gather_rng_states(
            capture_rng_state())
        super().save_checkpoint(*args, **kwargs)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        if fn_name == 'before_save_checkpoint':
            checkpoint = kwargs['checkpoint']
            checkpoint['message_hub'] = plain_message_hub(
                checkpoint['message_hub'])
            states = self._rank_rng_states or [
                capture_rng_state()
            ]
            checkpoint['rng_state'] = states[0]
            if len(states) > 1:
                checkpoint['rng_states'] = states
        super().call_hook(fn_name, **kwargs)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        checkpoint = load_checkpoint_file(
            filename,
            map_location=map_location if map_location != 'default' else
            'cpu',
            trusted=self.trust_checkpoint)
        if not isinstance(checkpoint, dict):
            raise CheckpointLoadError(
                f'{filename} holds a {type(checkpoint).__name__}, not a '
                'checkpoint dict')
        if self._resuming:
            require_training_checkpoint(checkpoint, filename)
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = restore_message_hub(
                checkpoint['message_hub'])
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        state, report = fit_state_dict(
            model, extract_state_dict(checkpoint, filename), filename,
            exact=self._resuming or strict)
        model.load_state_dict(state, strict=False)
        self._has_loaded = True
        self._resumed_rng_state = distributed.rng_state_of_rank(checkpoint)
        self.logger.info(report.summary(filename))
        return checkpoint

    def load_or_resume(self) -> None:
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = latest_checkpoint(self.work_dir)
        super().load_or_resume()

    def resume(self, filename: str, *args, **kwargs) -> None:
        self._resuming = True
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False
        if self._resumed_rng_state is not None:
            apply_rng_state(self._resumed_rng_state)
            self.logger.info('restored python/numpy/torch RNG states')
