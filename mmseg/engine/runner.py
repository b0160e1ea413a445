"""mmengine ``Runner`` with safe checkpoint loading and exact resume.

Differences from the stock runner:

* checkpoints are read with ``torch.load(weights_only=True)`` and an
  allow-list (:mod:`mmseg.utils.checkpoint_io`); ``trust_checkpoint=True``
  is the explicit opt-in for full unpickling of a trusted file;
* the message hub's history buffers are stored as plain arrays, so training
  checkpoints stay loadable with ``weights_only=True``;
* the RNG states of python, numpy and torch are saved and restored on resume,
  so a resumed run continues the same trajectory.
"""
import random
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmseg.utils.checkpoint_io import load_checkpoint_file

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
                 **kwargs):
        self.trust_checkpoint = trust_checkpoint
        self._resumed_rng_state: Optional[Dict[str, Any]] = None
        super().__init__(*args, **kwargs)
        if compile_networks:  # the networks, not mmengine's train_step
            from mmseg.models.utils.compiling import compile_networks as run
            run(self.model.module if is_model_wrapper(self.model)
                else self.model, compile_networks)

    @classmethod
    def from_cfg(cls, cfg) -> 'SegRunner':
        runner = super().from_cfg(cfg)
        runner.trust_checkpoint = bool(cfg.get('trust_checkpoint', False))
        return runner

    def call_hook(self, fn_name: str, **kwargs) -> None:
        if fn_name == 'before_save_checkpoint':
            checkpoint = kwargs['checkpoint']
            checkpoint['message_hub'] = plain_message_hub(
                checkpoint['message_hub'])
            checkpoint['rng_state'] = capture_rng_state()
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
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = restore_message_hub(
                checkpoint['message_hub'])
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self._resumed_rng_state = checkpoint.get('rng_state')
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self, filename: str, *args, **kwargs) -> None:
        super().resume(filename, *args, **kwargs)
        if self._resumed_rng_state is not None:
            apply_rng_state(self._resumed_rng_state)
            self.logger.info('restored python/numpy/torch RNG states')
