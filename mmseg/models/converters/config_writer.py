"""The config written beside a converted HuggingFace SegFormer segmentor."""
from typing import List, Optional

import torch

from mmseg.datasets.cityscapes_labels import CLASSES as CITYSCAPES_CLASSES
from mmseg.models.converters.geometry import MiTGeometry

# HuggingFace's LayerNorms use torch's default eps (see hf_segformer)
HF_NORM_EPS = 1e-5
# channels of the unused ``conv_seg`` of BaseDecodeHead (segformer_b5.py)
HEAD_CHANNELS = 128
# SegFormer's Cityscapes evaluation: full 1024x2048 images, 1024x1024
# sliding windows with stride 768
CITYSCAPES_TEST_CFG = dict(mode='slide', crop_size=(1024, 1024),
                           stride=(768, 768))
CITYSCAPES_SCALE = (2048, 1024)
# SegFormer's ADE20K/COCO-Stuff test scale: short side 512
OTHER_SCALE = (2048, 512)
IMG_NORM_CFG = dict(mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375], to_rgb=True)


def is_cityscapes(num_classes: int, names: Optional[List[str]]) -> bool:
    """19 classes named as Cityscapes' train ids (or 19 without names)."""
    if num_classes != len(CITYSCAPES_CLASSES):
        return False
    if names is None:
        return True
    return [n.lower() for n in names] == [
        n.lower() for n in CITYSCAPES_CLASSES]


def add_unused_conv_seg(state: dict, num_classes: int) -> None:
    """Zero ``decode_head.conv_seg`` tensors: ``BaseDecodeHead`` owns this
    classifier, SegFormer's head never calls it (``linear_pred`` classifies),
    and strict loading needs it."""
    state['decode_head.conv_seg.weight'] = torch.zeros(
        num_classes, HEAD_CHANNELS, 1, 1)
    state['decode_head.conv_seg.bias'] = torch.zeros(num_classes)


def segmentor_config(geometry: MiTGeometry, num_classes: int,
                     embed_dim: int, cityscapes: bool) -> dict:
    """The model (and, for Cityscapes, data) config of a converted model."""
    norm_cfg = dict(type='BN', requires_grad=True)
    cfg = dict(
        norm_cfg=norm_cfg,
        model=dict(
            type='EncoderDecoder',
            pretrained=None,
            backbone=geometry.backbone_cfg(HF_NORM_EPS),
            decode_head=dict(
                type='SegFormerHead',
                in_channels=list(geometry.embed_dims),
                in_index=[0, 1, 2, 3],
                channels=HEAD_CHANNELS,
                dropout_ratio=0.1,
                num_classes=num_classes,
                norm_cfg=norm_cfg,
                align_corners=False,
                decoder_params=dict(embed_dim=embed_dim, conv_kernel_size=1),
                loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                 loss_weight=1.0)),
            train_cfg=dict(),
            test_cfg=dict(CITYSCAPES_TEST_CFG) if cityscapes
            else dict(mode='whole')))
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', img_scale=CITYSCAPES_SCALE if cityscapes
             else OTHER_SCALE, keep_ratio=True),
        dict(type='LoadAnnotations'),
        dict(type='Normalize', **IMG_NORM_CFG),
        dict(type='PackSegInputs'),
    ]
    cfg['img_norm_cfg'] = IMG_NORM_CFG
    cfg['test_pipeline'] = pipeline
    if not cityscapes:
        # no dataset class holds these classes: the inference API and the
        # demos run on the pipeline alone ('class 0' .. names)
        cfg['data'] = dict(test=dict(pipeline=pipeline))
    else:
        val = dict(type='CityscapesDataset', data_root='data/cityscapes/',
                   img_dir='leftImg8bit/val', ann_dir='gtFine/val',
                   pipeline=pipeline, test_mode=True)
        test_set = dict(val, img_dir='leftImg8bit/test', ann_dir=None)
        cfg['data'] = dict(samples_per_gpu=1, workers_per_gpu=1, val=val,
                           test=val, test_set=test_set)
    return cfg


def config_text(cfg: dict, header: List[str]) -> str:
    """``cfg`` as a Python config file, ``header`` as leading comments."""
    from mmengine import Config
    body = Config(cfg).pretty_text
    return ''.join(f'# {line}\n' for line in header) + body
