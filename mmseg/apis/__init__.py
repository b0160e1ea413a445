"""The inference API: a config and checkpoint to predictions.

    from mmseg.apis import init_model, inference_model
    model = init_model('configs/toy/toy_dacs_daformer_mitb0.py',
                       'work_dirs/toy/iter_4000.pth', device='cuda')
    result = inference_model(model, 'night.png')   # or a BGR uint8 array
    result.pred_sem_seg   # int64 [H, W] class ids, input size
    result.seg_logits     # float32 [C, H, W]

``init_segmentor``/``inference_segmentor`` are the mmseg 0.x (HRDA,
DAFormer) names of the same functions (here returning :class:`SegResult`).
``tools/test.py`` and ``demo/`` predict through these functions.
"""
from .deploy import TEST_MODELS, deployed_network
from .images import ImageInputError
from .inference import inference_batch, inference_model
from .init import init_model
from .result import SegResult

init_segmentor = init_model
inference_segmentor = inference_model

__all__ = [
    'init_model', 'inference_model', 'init_segmentor', 'inference_segmentor',
    'inference_batch', 'SegResult', 'ImageInputError', 'TEST_MODELS',
    'deployed_network'
]
