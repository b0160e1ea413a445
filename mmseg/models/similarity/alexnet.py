"""AlexNet convolutional features, as used by LPIPS.

The layer indices of ``features`` follow torchvision's ``alexnet`` so that a
torchvision state dict (``features.{0,3,6,8,10}.{weight,bias}``) loads as is;
its classifier keys are dropped with a log line.
"""
from typing import Dict, List

import torch
from torch import nn

from mmseg.models.similarity.frozen_metric import load_torchvision_features

# Output channels of relu1..relu5.
ALEXNET_CHANNELS = (64, 192, 384, 256, 256)
# Index one past each relu in ``features``: relu1..relu5 end the slices.
_SLICE_ENDS = (2, 5, 8, 10, 12)


def _alexnet_features() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # 0
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),  # 3
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),  # 6
        nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),  # 8
        nn.ReLU(),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),  # 10
        nn.ReLU(),
    )


class AlexNetFeatures(nn.Module):
    """AlexNet trunk returning the five relu outputs (relu1..relu5)."""

    channels = ALEXNET_CHANNELS

    def __init__(self) -> None:
        super().__init__()
        self.features = _alexnet_features()

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        outs, start = [], 0
        for end in _SLICE_ENDS:
            for idx in range(start, end):
                x = self.features[idx](x)
            outs.append(x)
            start = end
        return outs

    def load_torchvision_state_dict(self, state_dict: Dict[str, torch.Tensor],
                                    filename: str = 'state dict') -> None:
        """Load torchvision ``alexnet`` weights, dropping the classifier."""
        load_torchvision_features(self, state_dict, filename, 'alexnet')
