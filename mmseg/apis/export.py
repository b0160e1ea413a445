"""ONNX export of a deployed network's whole-image inference.

Call graph::

    export_onnx(model, shape, out)
      -> exportable_network()   refuses what has no fixed-graph form
      -> ExportedInference      normalise -> network.inference_logits()
      -> torch.onnx.export      TorchScript-based exporter, dynamic H/W
    check_onnx(model, out, shapes)  onnxruntime vs PyTorch on random images

The graph is the network's own inference (``EncoderDecoder`` whole image;
``HRDAEncoderDecoder``: context scale and detail scale by its sliding
windows, fused by the scale attention) behind the test pipeline's
``Normalize``: input ``float32 [1, 3, H, W]``, pixel values 0..255 in the
channel order the config's ``Normalize`` expects to output (RGB for
``to_rgb=True``, as every config here), output the logits
``float32 [1, C, H, W]`` before softmax. Resizing to the test scale stays
with the caller.

Exported with torch's TorchScript-based exporter (``dynamo=False``): in
torch 2.13 the ``torch.export`` exporter specialises the MiT's shape
arithmetic to the example size, while the traced graph keeps height and
width symbolic. Python decisions on the size (input padding, the windows'
layout) are recorded for the example size, so:
- ``EncoderDecoder``: dynamic height/width, valid for sides that need no
  padding (>= the network's smallest input, a multiple of its
  ``input_size_rule``);
- ``HRDAEncoderDecoder``: fixed at the example size (its detail windows are
  laid out for it).
Refused by name: ``test_cfg.mode='slide'`` (unless ``whole=True``: the
export then runs whole-image inference, which differs from the config's
prediction) and ``test_model='fusion'`` (two teachers and a label fusion,
not one network).
"""
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from mmseg.config import ConfigError

from .dataset_meta import test_dataset_cfg

ONNX_OPSET = 17


class ExportedInference(nn.Module):
    """``img [1, 3, H, W]`` (0..255) -> logits ``[1, C, H, W]``."""

    def __init__(self, network: nn.Module, mean: Sequence[float],
                 std: Sequence[float]) -> None:
        super().__init__()
        self.network = network
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = (img - self.mean) / self.std
        h, w = x.shape[2:]
        meta = dict(img_shape=(h, w, 3), ori_shape=(h, w, 3),
                    pad_shape=(h, w, 3), flip=False)
        return self.network.inference_logits(x, [meta], rescale=False)


def normalisation(cfg) -> Tuple[List[float], List[float], bool]:
    """``(mean, std, to_rgb)`` of the test pipeline's ``Normalize``.

    Raises:
        ConfigError: the config has no test pipeline with ``Normalize``.
    """
    dataset = test_dataset_cfg(cfg) or {}
    for step in dataset.get('pipeline') or []:
        if step.get('type') == 'Normalize':
            return (list(step['mean']), list(step['std']),
                    bool(step.get('to_rgb', True)))
    raise ConfigError('data.test.pipeline has no Normalize: the exported '
                      'graph starts with the test pipeline\'s normalisation')


def exportable_network(model: nn.Module, whole: bool = False) -> nn.Module:
    """The network to export, set to whole-image inference.

    Raises:
        ConfigError: ``test_model='fusion'``; ``test_cfg.mode='slide'``
            without ``whole``.
    """
    import copy
    network = model
    deployed = getattr(model, 'deployed_model', None)
    if callable(deployed):
        network = deployed()
    if not isinstance(network, nn.Module) or \
            getattr(model, 'deployed_network', None) == 'fusion':
        raise ConfigError(
            "test_model='fusion' (the DMS fusion of two teachers' labels) "
            'cannot be exported as one network; export --test-model teacher '
            'or nfnet_teacher')
    mode = (network.test_cfg or {}).get('mode', 'whole')
    if mode == 'slide' and not whole:
        raise ConfigError(
            "test_cfg.mode='slide' (sliding windows over the whole image) "
            'is not exported; pass --whole to export whole-image inference '
            '(its predictions differ from the config\'s slide inference)')
    if mode != 'whole':
        network = copy.copy(network)  # shallow: same weights
        network.test_cfg = dict(network.test_cfg, mode='whole')
    return network


def is_dynamic(network: nn.Module) -> bool:
    """Whether the traced graph holds for other sizes (see module doc)."""
    return not hasattr(network, 'scales') or len(network.scales) == 1


def check_dynamic_shape(network: nn.Module, shape: Sequence[int]) -> None:
    """Raise ``ConfigError`` when the example size needs padding (a dynamic
    graph would then pad every size as it pads this one)."""
    multiple, minimum = network.input_size_rule()
    h, w = shape
    if min(h, w) < minimum or h % multiple or w % multiple:
        raise ConfigError(
            f'--shape {h} {w}: a dynamic-size export needs sides >= '
            f'{minimum} and multiples of {multiple} (this network pads '
            'others); choose such a size or pass --static')


def export_onnx(model: nn.Module, shape: Sequence[int], out_file: str,
                whole: bool = False, static: bool = False) -> dict:
    """Export ``model``'s inference at example size ``shape = (H, W)`` to
    ``out_file``. Returns ``{'dynamic': bool, 'to_rgb': bool, 'network':
    ExportedInference}``.

    Raises:
        ConfigError: a network or setting that is not exported (named).
    """
    network = exportable_network(model, whole)
    dynamic = is_dynamic(network) and not static
    if dynamic:
        check_dynamic_shape(network, shape)
    mean, std, to_rgb = normalisation(model.cfg)
    wrapper = ExportedInference(network, mean, std).eval()
    example = torch.rand(1, 3, *shape) * 255
    axes = {'img': {2: 'height', 3: 'width'},
            'logits': {2: 'height', 3: 'width'}} if dynamic else None
    with warnings.catch_warnings():
        # the traced size decisions are what the module doc describes
        warnings.simplefilter('ignore')
        torch.onnx.export(wrapper, (example, ), out_file, dynamo=False,
                          input_names=['img'], output_names=['logits'],
                          dynamic_axes=axes, opset_version=ONNX_OPSET)
    return dict(dynamic=dynamic, to_rgb=to_rgb, network=wrapper)


def onnxruntime_session(out_file: str):
    """An onnxruntime CPU session (the optional dependency, named when
    missing)."""
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError('checking the export needs onnxruntime (pip '
                          'install onnxruntime), or pass --no-check') from err
    return onnxruntime.InferenceSession(
        out_file, providers=['CPUExecutionProvider'])


@torch.no_grad()
def check_onnx(wrapper: ExportedInference, out_file: str,
               shapes: Sequence[Sequence[int]],
               seed: int = 0) -> List[float]:
    """Max absolute difference of the ONNX logits (onnxruntime) from
    PyTorch's, per shape, on random 0..255 images."""
    session = onnxruntime_session(out_file)
    generator = torch.Generator().manual_seed(seed)
    diffs = []
    for h, w in shapes:
        img = torch.rand(1, 3, h, w, generator=generator) * 255
        ref = wrapper(img).numpy()
        got = session.run(['logits'], {'img': img.numpy()})[0]
        if got.shape != ref.shape:
            raise RuntimeError(f'ONNX logits have shape {got.shape}, '
                               f'PyTorch {ref.shape}, at {h}x{w}')
        diffs.append(float(np.abs(got - ref).max()))
    return diffs


def second_shape(network: nn.Module, shape: Sequence[int]
                 ) -> Optional[Tuple[int, int]]:
    """Another size a dynamic export is checked at (smaller, other aspect)."""
    multiple, minimum = network.input_size_rule()

    def side(v):
        return max(minimum, (v * 3 // 4) // multiple * multiple)
    h, w = side(shape[0]), side(shape[1] // 2)
    return None if (h, w) == tuple(shape) else (h, w)
