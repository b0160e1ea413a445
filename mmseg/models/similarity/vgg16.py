"""VGG16 convolutional features for DISTS.

``features`` follows torchvision's ``vgg16`` indices, so a torchvision state
dict (``features.{0,2,5,...,28}.*``) loads as is (the classifier keys are
dropped with a log line). DISTS replaces the four inner max-pools with a
Hanning-window L2 pooling (no parameters, so the keys are unchanged).
"""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import nn

from mmseg.models.similarity.frozen_metric import load_torchvision_features

# (in, out) channels of the 13 convs; 'M' marks a pooling layer.
_VGG16_CFG = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512,
              'M', 512, 512, 512)
# Index one past relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
_STAGE_ENDS = (4, 9, 16, 23, 30)
VGG16_CHANNELS = (64, 128, 256, 512, 512)


class L2Pooling(nn.Module):
    """sqrt(conv(x^2, 3x3 normalised Hanning window)), stride 2, depth-wise."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        window = torch.tensor([0.5, 1.0, 0.5])
        kernel = window[:, None] * window[None, :]
        kernel = (kernel / kernel.sum()).expand(channels, 1, 3, 3).clone()
        self.register_buffer('kernel', kernel, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x**2, self.kernel.to(x), stride=2, padding=1,
                       groups=x.shape[1])
        return (out + 1e-12).sqrt()


def _vgg16_features(pool: str) -> nn.Sequential:
    layers: List[nn.Module] = []
    in_ch = 3
    for item in _VGG16_CFG:
        if item == 'M':
            layers.append(L2Pooling(in_ch) if pool == 'l2' else
                          nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_ch, item, kernel_size=3, padding=1),
                       nn.ReLU()]
            in_ch = item
    return nn.Sequential(*layers)


class VGG16Features(nn.Module):
    """VGG16 trunk returning relu1_2, relu2_2, relu3_3, relu4_3, relu5_3."""

    channels = VGG16_CHANNELS

    def __init__(self, pool: str = 'l2') -> None:
        super().__init__()
        if pool not in ('l2', 'max'):
            raise ValueError(
                f'vgg16.py: pool must be "l2" or "max", got {pool!r}')
        self.features = _vgg16_features(pool)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        outs, start = [], 0
        for end in _STAGE_ENDS:
            for idx in range(start, end):
                x = self.features[idx](x)
            outs.append(x)
            start = end
        return outs

    def load_torchvision_state_dict(self, state_dict: Dict[str, torch.Tensor],
                                    filename: str = 'state dict') -> None:
        """Load torchvision ``vgg16`` weights, dropping the classifier."""
        load_torchvision_features(self, state_dict, filename, 'vgg16')
