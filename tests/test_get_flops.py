"""tools/get_flops.py and mmseg.apis.complexity: parameters and FLOPs of the
deployed network's inference."""
import os.path as osp

import pytest

from mmseg.apis.complexity import config_complexity
from mmseg.utils.cli import run_cli
from tools.get_flops import main as flops_main

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEGFORMER = osp.join(REPO, 'configs', '_base_', 'models', 'segformer_b5.py')
TOY = osp.join(REPO, 'configs', 'toy')
B0_ADE = {'model.backbone.type': 'mit_b0',
          'model.decode_head.in_channels': [32, 64, 160, 256],
          'model.decode_head.decoder_params.embed_dim': 256,
          'model.decode_head.num_classes': 150}


def _complexity(config, shape, cfg_options=None, test_model=None):
    return config_complexity(config, shape, cfg_options, test_model)[1]


def test_segformer_b0_matches_the_paper_in_macs():
    """SegFormer paper, Table 1: B0 (ADE20K, 150 classes) 3.8M parameters,
    8.4 "GFLOPs" at 512x512: the paper counts multiply-adds (torch's FLOPs
    / 2), attention included."""
    result = _complexity(SEGFORMER, (512, 512), B0_ADE)
    assert round(result.params['total'] / 1e6, 1) == 3.8
    assert result.flops['total'] / 2e9 == pytest.approx(8.4, rel=0.01)
    # SegFormer's head never calls BaseDecodeHead.conv_seg (128 -> 150)
    assert result.params_in_network - result.params['total'] == 128 * 150 \
        + 150


def test_attention_is_counted_on_cpu():
    """torch's counter lists no FLOPs for the CPU attention kernel; without
    ours the MiT-B0 backbone would count 2.07 GMACs instead of 3.20."""
    result = _complexity(SEGFORMER, (512, 512), B0_ADE)
    assert result.flops['backbone'] / 2e9 == pytest.approx(3.20, abs=0.01)


def test_slide_inference_counts_every_window():
    config = osp.join(TOY, 'toy_dacs_daformer_mitb0.py')
    window = _complexity(config, (64, 64))
    slide = _complexity(config, (64, 160), {
        'model.test_cfg.mode': 'slide', 'model.test_cfg.crop_size': [64, 64],
        'model.test_cfg.stride': [48, 48]})
    assert slide.backbone_inputs == [(1, 3, 64, 64)] * 3
    assert slide.flops['total'] == 3 * window.flops['total']


def test_hrda_counts_the_context_and_every_detail_window():
    """HRDA at 256x256: the context image at scale 0.5 (128x128) and the
    detail scale by 9 overlapping 128x128 windows: 10 backbone passes of
    128x128."""
    hrda = _complexity(osp.join(TOY, 'toy_hrda_daformer_mitb0.py'),
                       (256, 256))
    plain = _complexity(osp.join(TOY, 'toy_dacs_daformer_mitb0.py'),
                        (128, 128))
    assert hrda.backbone_inputs == [(1, 3, 128, 128), (9, 3, 128, 128)]
    assert hrda.flops['backbone'] == 10 * plain.flops['backbone']
    assert hrda.flops['heads'] > plain.flops['heads']


def test_cli_prints_a_table(capsys):
    result = flops_main([osp.join(TOY, 'toy_hrda_daformer_mitb0.py'),
                         '--shape', '256', '256'])
    text = capsys.readouterr().out
    assert 'HRDA scales [0.5, 1]' in text
    assert 'backbone inputs: 1x3x128x128, 9x3x128x128' in text
    assert 'GFLOPs (torch)' in text and 'GMACs (=FLOPs/2)' in text
    assert f'{result.flops["total"] / 1e9:.2f}' in text
    assert run_cli(flops_main, [osp.join(TOY, 'toy_hrda_daformer_mitb0.py'),
                                '--test-model', 'fusion']) == 1
    assert 'fusion' in capsys.readouterr().err
