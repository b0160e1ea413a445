"""Mixed-precision training (``--amp``, ``amp=dict(dtype=...)``) on CUDA and CPU.

mmengine's ``AmpOptimWrapper`` refuses to be built without a GPU. This
wrapper autocasts on the device the model is on: bf16 on CPU or CUDA, fp16
on CUDA only, with a ``torch.amp.GradScaler`` (loss scaling) whose state is
saved in the checkpoint with the optimiser's (``state_dict`` key
``'loss_scaler'``).

What autocast changes: matrix products and convolutions (the network
forwards) run in the low precision; parameters, gradients, optimiser state
and EMA teachers stay fp32. The UDA step opens
:func:`mmseg.models.utils.precision.autocast_context` around every network
forward (student, teachers' pseudo-labelling, NFNet, ImageNet feature
model, similarity networks) and casts logits/features back to fp32 before
softmax, confidence thresholds and losses.
"""
from contextlib import contextmanager
from typing import Any, ContextManager, Dict, Iterator, Optional, Union

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmseg.models.utils.precision import model_device_type
from mmseg.registry import OPTIM_WRAPPERS

DTYPES = {
    'bf16': torch.bfloat16, 'bfloat16': torch.bfloat16,
    'fp16': torch.float16, 'float16': torch.float16,
}
CLI_DTYPES = {'bf16': 'bfloat16', 'fp16': 'float16'}


def parse_dtype(dtype: Union[str, torch.dtype]) -> torch.dtype:
    """``'bf16'``/``'bfloat16'``/``'fp16'``/``'float16'`` -> torch dtype.

    Raises:
        ValueError: any other value.
    """
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f'amp.dtype must be one of {sorted(DTYPES)}, '
                     f'got {dtype!r}')


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """Autocast + (fp16) loss scaling around an optimiser, CPU and CUDA.

    Args:
        optimizer: the wrapped optimiser.
        dtype: ``'bfloat16'`` (default; CPU or CUDA) or ``'float16'``
            (CUDA only: its narrow range needs loss scaling).
        loss_scale: fp16 only: ``'dynamic'`` (default), a float (static
            scale) or a dict of ``torch.amp.GradScaler`` arguments.
        **kwargs: :class:`OptimWrapper`'s (``clip_grad``,
            ``accumulative_counts``).

    Raises:
        ValueError: an unknown dtype, fp16 without CUDA, or fp16 used on a
            model that is not on a CUDA device.
    """

    def __init__(self,
                 optimizer: torch.optim.Optimizer,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 loss_scale: Union[str, float, Dict[str, Any]] = 'dynamic',
                 **kwargs: Any) -> None:
        super().__init__(optimizer, **kwargs)
        self.cast_dtype = parse_dtype(dtype)
        self.loss_scaler: Optional[torch.amp.GradScaler] = None
        self._static_scale: Optional[float] = None
        if self.cast_dtype == torch.float16:
            if not torch.cuda.is_available():
                raise ValueError(
                    'amp.dtype=float16 (--amp fp16) needs a CUDA device for '
                    'its loss scaling; on CPU use bfloat16 (--amp bf16)')
            self.loss_scaler = self.make_scaler(loss_scale)

    def make_scaler(self, loss_scale: Union[str, float, Dict[str, Any]]
                    ) -> torch.amp.GradScaler:
        """The CUDA gradient scaler of ``loss_scale`` (see the class)."""
        if loss_scale == 'dynamic':
            return torch.amp.GradScaler('cuda')
        if isinstance(loss_scale, (int, float)):
            self._static_scale = float(loss_scale)
            return torch.amp.GradScaler('cuda', init_scale=float(loss_scale))
        if isinstance(loss_scale, dict):
            return torch.amp.GradScaler('cuda', **loss_scale)
        raise ValueError(f"amp.loss_scale must be 'dynamic', a number or a "
                         f'dict of GradScaler arguments, got {loss_scale!r}')

    # ---------------------------------------------------------- autocast
    def autocast(self, model: nn.Module) -> ContextManager:
        """Autocast to ``cast_dtype`` on the device type of ``model``."""
        device_type = model_device_type(model)
        if self.loss_scaler is not None and device_type != 'cuda':
            raise ValueError(f'amp.dtype=float16 needs the model on a CUDA '
                             f'device, it is on {device_type}')
        return torch.autocast(device_type, dtype=self.cast_dtype)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), self.autocast(model):
            yield

    # ------------------------------------------------- backward and step
    def backward(self, loss: torch.Tensor, **kwargs: Any) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        super().backward(loss, **kwargs)

    def step(self, **kwargs: Any) -> None:
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._static_scale)

    # -------------------------------------------------------- checkpoint
    def state_dict(self) -> Dict[str, Any]:
        """The optimiser's state plus ``'loss_scaler'`` (fp16)."""
        state = self.optimizer.state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        self.optimizer.load_state_dict(state_dict)

