"""``torch.compile`` of the networks of a model, with an eager fallback.

``compile=True`` (or a dict of ``torch.compile`` keyword arguments) in a
config, ``--compile`` on ``tools/train.py`` / ``tools/benchmark.py``.
The compiled parts are the compute-heavy sub-networks, each compiled in
place (state-dict keys, parameters and the EMA copies are unchanged):

* the segmentors' backbones and decode heads (for ``HRDAHead``: its
  single-scale head and scale-attention head, whose inputs have fixed
  shapes; the crop box arithmetic stays eager),
* of a UDA model: the student, the EMA teacher(s) and EGLP's NFNet
  student/teacher.

A part that ``torch.compile`` cannot handle (an unsupported operation, no
C++ compiler for inductor on CPU, ...) runs eager from then on, after one
warning naming the part and the error; training is not interrupted.
"""
import warnings
from typing import Any, Dict, Iterator, List, Tuple, Union

import torch
from torch import nn

CompileCfg = Union[bool, Dict[str, Any]]


def compile_options(value: CompileCfg, where: str = 'compile') -> Dict:
    """``torch.compile`` kwargs of a config value; ``{}`` for ``True``.

    Raises:
        ValueError: ``value`` is neither a bool nor a dict, or names an
            argument ``torch.compile`` does not take.
    """
    if value is True:
        return {}
    if isinstance(value, dict):
        allowed = {'fullgraph', 'dynamic', 'backend', 'mode', 'options',
                   'disable'}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ValueError(f'{where}: unknown torch.compile argument(s) '
                             f'{unknown} (known: {sorted(allowed)})')
        return dict(value)
    raise ValueError(f'{where} must be True, False or a dict of '
                     f'torch.compile arguments, got {value!r}')


class EagerFallback:
    """``forward`` of a module: the compiled call until it fails once, then
    the eager one (with a warning naming ``name``)."""

    def __init__(self, module: nn.Module, name: str,
                 options: Dict[str, Any]) -> None:
        self.eager = module.forward
        self.compiled = torch.compile(self.eager, **options)
        self.name = name
        self.failed = False

    def __call__(self, *args, **kwargs):
        if not self.failed:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - any compiler error
                self.failed = True
                lines = [ln.strip() for ln in str(err).splitlines()
                         if ln.strip()]
                warnings.warn(
                    f'torch.compile: {self.name} does not compile '
                    f'({type(err).__name__}: {" ".join(lines[:2])}); '
                    'it runs eager', RuntimeWarning, stacklevel=2)
        return self.eager(*args, **kwargs)


def compile_module(module: nn.Module, name: str,
                   options: Dict[str, Any]) -> EagerFallback:
    """Compile ``module.forward`` in place (eager fallback); returns it."""
    forward = EagerFallback(module, name, options)
    module.forward = forward
    return forward


def segmentor_parts(segmentor: nn.Module,
                    prefix: str) -> Iterator[Tuple[str, nn.Module]]:
    """``(name, module)`` of a segmentor's parts worth compiling."""
    backbone = getattr(segmentor, 'backbone', None)
    if backbone is not None:
        yield f'{prefix}.backbone', backbone
    head = getattr(segmentor, 'decode_head', None)
    if head is None:
        return
    inner = [(n, getattr(head, n)) for n in ('head', 'scale_attention')
             if isinstance(getattr(head, n, None), nn.Module)]
    if inner:  # HRDAHead: the single-scale heads; box logic stays eager
        for n, m in inner:
            yield f'{prefix}.decode_head.{n}', m
    else:
        yield f'{prefix}.decode_head', head


def networks_of(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """Segmentors of a UDA model (student, teachers, NFNet) or the model."""
    found: List[Tuple[str, nn.Module]] = []
    if hasattr(model, 'backbone'):
        return [('model', model)]
    for name in ('model', 'nfnet'):
        net = getattr(model, name, None)
        if isinstance(net, nn.Module):
            found.append((name, net))
    for name in ('teacher', 'nf_teacher'):
        teacher = getattr(model, name, None)
        if teacher is not None and isinstance(
                getattr(teacher, 'model', None), nn.Module):
            found.append((f'{name}.model', teacher.model))
    return found


def inductor_cpu_defaults(options: Dict[str, Any],
                          model: nn.Module) -> Dict[str, Any]:
    """``options`` with inductor's layout optimisation off for a CPU model.

    Inductor stores convolution inputs channels_last by default. On CPU,
    oneDNN's backward of the sep-ASPP's dilated depthwise 3x3 convolutions
    is about 4x slower in that layout (1.5 s against 0.37 s on
    ``[2, 1024, 128, 128]``, 2 threads), which made a compiled DAFormer head
    slower than the eager one (8.9 s against 7.1 s per step at 512x512; 6.9 s
    with the optimisation off). An explicit ``options.layout_optimization``,
    another backend, a ``mode`` (torch.compile takes ``mode`` or
    ``options``, not both) or a CUDA model keep torch's default.
    """
    if options.get('backend', 'inductor') != 'inductor' or \
            options.get('mode') is not None:
        return options
    params = list(model.parameters())
    if not params or any(p.device.type != 'cpu' for p in params):
        return options
    inductor = dict(options.get('options') or {})
    inductor.setdefault('layout_optimization', False)
    return dict(options, options=inductor)


def compile_networks(model: nn.Module,
                     value: CompileCfg) -> List[EagerFallback]:
    """Apply ``torch.compile`` (config value ``value``) to the networks of
    ``model``; returns the compiled forwards (empty when ``value`` is falsy).
    """
    if not value:
        return []
    options = inductor_cpu_defaults(compile_options(value), model)
    compiled = []
    for prefix, net in networks_of(model):
        for name, part in segmentor_parts(net, prefix):
            compiled.append(compile_module(part, name, options))
    return compiled

