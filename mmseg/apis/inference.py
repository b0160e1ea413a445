"""``inference_model``: images to class maps, through the config's test
pipeline and ``test_cfg`` (the path ``tools/test.py`` and the demos take).

Call graph::

    inference_model(model, imgs)
      -> load_input()          path (decoded as the datasets do) or array
      -> test_pipeline()       data.test.pipeline, from the image on
      -> inference_batch()     deployed network .inference_logits()
                               (whole | slide | HRDA) -> softmax -> argmax
"""
import os
from typing import Any, Callable, List, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.config import ConfigError
from mmseg.models.utils.class_argmax import class_argmax

from .dataset_meta import test_dataset_cfg
from .images import load_input
from .result import SegResult

ImageInput = Union[str, os.PathLike, np.ndarray]

# transforms of a test pipeline that read files; the API feeds the decoded
# image instead and has no labels
_FILE_LOADERS = ('LoadImageFromFile', )
_LABEL_LOADERS = ('LoadAnnotations', )


def test_pipeline(cfg: Any) -> Callable[[dict], dict]:
    """``data.test.pipeline`` with ``LoadImageFromFile`` replaced by
    ``LoadImageFromNDArray`` and ``LoadAnnotations`` dropped.

    Raises:
        ConfigError: no data.test/val pipeline, or none loading an image.
    """
    from mmengine.dataset import Compose

    from mmseg.registry import TRANSFORMS
    dataset = test_dataset_cfg(cfg)
    if dataset is None or not dataset.get('pipeline'):
        raise ConfigError('the config has no data.test.pipeline; the '
                          'inference API runs the test pipeline')
    steps = [dict(t) for t in dataset['pipeline']]
    types = [t.get('type') for t in steps]
    if not any(t in _FILE_LOADERS for t in types):
        raise ConfigError('data.test.pipeline has no LoadImageFromFile '
                          f'(types: {types})')
    steps = [dict(type='LoadImageFromNDArray') if t.get('type') in
             _FILE_LOADERS else t for t in steps
             if t.get('type') not in _LABEL_LOADERS]
    return Compose([TRANSFORMS.build(t) for t in steps])


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (CPU without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


def _network(model: Any) -> Any:
    """The network that predicts: a UDA module's ``deployed_model()``, else
    the segmentor itself."""
    deployed = getattr(model, 'deployed_model', None)
    return deployed() if callable(deployed) else model


def _share_shape_and_flip(metas: Sequence[dict]) -> bool:
    keys = {(tuple(m.get('ori_shape', ())), m.get('flip', False),
             m.get('flip_direction')) for m in metas}
    return len(keys) <= 1


@torch.no_grad()
def inference_batch(model: nn.Module, batch: dict,
                    amp: bool = False) -> List[SegResult]:
    """Predictions of a collated batch (``img [B, 3, H, W]`` normalised by
    the test pipeline, ``img_metas``), one :class:`SegResult` per image.

    ``tools/test.py`` calls this on its data loader's batches; images that
    differ in ``ori_shape`` or flip are inferred one by one. ``amp``: bf16
    autocast around the forward (logits returned in float32).
    """
    network = _network(model)
    device = model_device(model)
    img = batch['img'].to(device)
    metas = list(batch['img_metas'])
    groups = ([list(range(len(metas)))] if _share_shape_and_flip(metas)
              else [[i] for i in range(len(metas))])
    results: List[SegResult] = []
    for group in groups:
        with torch.autocast(device.type, dtype=torch.bfloat16,
                            enabled=amp):
            logits = network.inference_logits(
                img[group], [metas[i] for i in group], rescale=True)
        logits = logits.float()
        preds = class_argmax(F.softmax(logits, dim=1))
        for k, i in enumerate(group):
            shape = tuple(int(v) for v in metas[i]['ori_shape'][:2])
            results.append(SegResult(pred_sem_seg=preds[k],
                                     seg_logits=logits[k],
                                     img_path=metas[i].get('filename'),
                                     ori_shape=shape))
    return results


def prepare_sample(pipeline: Callable[[dict], dict], img: np.ndarray,
                   path: Any, num_classes: int) -> dict:
    """The test pipeline's sample of a decoded BGR uint8 image."""
    return pipeline(dict(
        img=img, filename=path,
        ori_filename=os.path.basename(path) if path else None,
        seg_map_path=None, seg_fields=[], rng=np.random.default_rng(0),
        ignore_index=255, num_classes=num_classes))


def inference_model(model: nn.Module,
                    imgs: Union[ImageInput, Sequence[ImageInput]],
                    amp: bool = False
                    ) -> Union[SegResult, List[SegResult]]:
    """Segment images with a model from :func:`init_model`.

    Args:
        model: from :func:`init_model` (needs ``model.cfg``).
        imgs: an image path, an image array, or a list of them; any size
            (1x1 up) and aspect. Arrays are **BGR** (OpenCV/mmseg order, as
            ``cv2.imread`` returns) ``uint8 [H, W, 3]``; ``[H, W]`` grey,
            ``[H, W, 4]`` BGRA and ``uint16`` are converted as OpenCV
            converts such files (see :func:`~mmseg.apis.images.as_bgr_uint8`).
        amp: run the forward under bf16 autocast (CUDA, or CPUs with bf16
            kernels); the logits are returned in float32.

    Returns:
        A :class:`SegResult` (``pred_sem_seg`` ``int64 [H, W]`` at the
        input's size, ``seg_logits`` ``[C, H, W]``, on the model's device),
        or a list of them for a list input.

    Raises:
        FileNotFoundError, CorruptFileError: a path is missing or not an
            image (naming it).
        ImageInputError: an array of unusable dtype or shape (naming its
            index).
        ConfigError: the config has no usable test pipeline.
    """
    single = not isinstance(imgs, (list, tuple))
    items = [imgs] if single else list(imgs)
    pipeline = test_pipeline(model.cfg)
    num_classes = len(model.dataset_meta['classes'])
    from mmseg.datasets.collate import seg_collate
    results = []
    for k, item in enumerate(items):
        img, path = load_input(item, 'imgs' if single else f'imgs[{k}]')
        sample = prepare_sample(pipeline, img, path, num_classes)
        results += inference_batch(model, seg_collate([sample]), amp)
    return results[0] if single else results
