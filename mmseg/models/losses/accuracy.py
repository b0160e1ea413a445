"""Top-1 pixel accuracy of a segmentation logit map."""
import torch

from mmseg.models.utils.class_argmax import class_argmax


def accuracy(logits: torch.Tensor,
             label: torch.Tensor,
             ignore_index: int = 255) -> torch.Tensor:
    """Percentage of non-ignored pixels whose argmax equals the label.

    Args:
        logits: ``[B, C, H, W]`` scores at the label resolution.
        label: ``[B, H, W]`` class indices.
        ignore_index: label value excluded from the count.

    Returns:
        A scalar tensor in ``[0, 100]``; 0 when every pixel is ignored.
    """
    with torch.no_grad():
        valid = label != ignore_index
        correct = (class_argmax(logits) == label) & valid
        total = valid.sum().clamp(min=1)
        return correct.sum().float() * (100.0 / total.float())
