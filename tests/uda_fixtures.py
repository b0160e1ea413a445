"""Tiny UDA models and batches for step tests."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmseg.engine.optim_constructor import TrainableOptimWrapperConstructor

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
            to_rgb=True)


def tiny_model_cfg(hrda: bool = False) -> dict:
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/daformer_sepaspp_mitb0.py'))
    model = cfg.to_dict()['model']
    model['decode_head']['channels'] = 16
    model['decode_head']['decoder_params']['embed_dims'] = 16
    if hrda:
        model.update(
            type='HRDAEncoderDecoder', scales=[1, 0.5], hr_crop_size=[32, 32],
            feature_scale=0.5, crop_coord_divisible=8,
            hr_slide_inference=True,
            test_cfg=dict(mode='slide', batched_slide=True,
                          crop_size=[64, 64], stride=[32, 32]))
        model['decode_head'].update(
            type='HRDAHead', single_scale_head='DAFormerHead',
            attention_classwise=True, hr_loss_weight=0.1)
    return model


def sample_batch(batch: int = 2, size: int = 64, labelled: bool = True,
                 seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    metas = [
        dict(img_shape=(size, size, 3), ori_shape=(size, size, 3),
             pad_shape=(size, size, 3), scale_factor=1.0, flip=False,
             flip_direction=None, img_norm_cfg=NORM, filename=f'{i}.png',
             ori_filename=f'{i}.png') for i in range(batch)
    ]
    out = dict(img=torch.randn(batch, 3, size, size, generator=g),
               img_metas=metas)
    if labelled:
        label = torch.randint(0, 19, (batch, 1, size, size), generator=g)
        label[:, :, :8] = 255
        out['gt_semantic_seg'] = label
    return out


def uda_batch(prompt: bool = False) -> dict:
    data = dict(source=sample_batch(seed=1),
                target=sample_batch(labelled=False, seed=2))
    if prompt:
        data['prompt'] = sample_batch(seed=3)
    return data


def optim_wrapper_for(model) -> OptimWrapper:
    return TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-3)),
        dict(custom_keys=dict(head=dict(lr_mult=10.0))))(model)
