"""What :func:`mmseg.apis.inference_model` returns for one image."""
from dataclasses import dataclass, field
from typing import Optional, Tuple

import torch


@dataclass
class SegResult:
    """The prediction of one image (mmseg 1.x attribute names).

    Attributes:
        pred_sem_seg: ``int64 [H, W]`` class ids (indices into
            ``model.dataset_meta['classes']``) at the input's own size.
        seg_logits: ``float32 [C, H, W]`` scores before the argmax, at the
            input's own size: the logits before softmax (averaged over the
            windows in ``slide`` mode; HRDA: the fused multi-resolution
            logits). EGLP's ``test_model='fusion'`` has no logits: there they
            are the one-hot fused labels.
        img_path: the image file, or None for an array input.
        ori_shape: ``(H, W)`` of the input.

    Both tensors stay on the model's device (``.cpu().numpy()`` for numpy).
    """

    pred_sem_seg: torch.Tensor
    seg_logits: torch.Tensor
    img_path: Optional[str] = None
    ori_shape: Tuple[int, int] = field(default=(0, 0))
