"""tools/export_onnx.py and mmseg.apis.export: whole-image inference of
EncoderDecoder and HRDA in ONNX, checked with onnxruntime against PyTorch
(onnx/onnxruntime are test-only/optional dependencies)."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from mmseg.apis import inference_model, init_model
from mmseg.utils.cli import run_cli
from tools.export_onnx import main as export_main

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY = osp.join(REPO, 'configs', 'toy')
DACS = osp.join(TOY, 'toy_dacs_daformer_mitb0.py')
HRDA = osp.join(TOY, 'toy_hrda_daformer_mitb0.py')
TOL = 1e-4
def _tiny(config):
    """Options giving ``config`` a 4-stage MiT of 8..64 channels, one block each."""
    options = {'model.backbone.embed_dims': [8, 16, 32, 64],
               'model.backbone.depths': [1, 1, 1, 1],
               'model.backbone.num_heads': [1, 1, 2, 2],
               'model.decode_head.in_channels': [8, 16, 32, 64]}
    return options


def _bgr_image(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3),
                                                dtype=np.uint8)


def _onnx_logits(path, bgr):
    import onnxruntime
    session = onnxruntime.InferenceSession(
        path, providers=['CPUExecutionProvider'])
    rgb = bgr[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[None]
    return session.run(['logits'], {'img': np.ascontiguousarray(rgb)})[0]


@pytest.mark.parametrize('config,static', [(DACS, False), (HRDA, True)])
def test_export_matches_the_inference_api(tmp_path, config, static):
    """The ONNX logits of an image at the test scale (256x512: the toy
    pipeline's Resize keeps it) equal ``inference_model``'s ``seg_logits``;
    HRDA is exported with its whole-image (context + detail windows)
    inference."""
    pytest.importorskip('onnxruntime', reason='onnxruntime '
                        '(requirements-test.txt) runs the exported graph')
    options = _tiny(config)
    out = str(tmp_path / 'model.onnx')
    argv = [config, 'none', '--shape', '256', '512', '--out', out,
            '--cfg-options'] + [f'{k}={v}'.replace(' ', '')
                                for k, v in options.items()]
    if config == HRDA:
        argv.insert(-len(options) - 1, '--whole')
        options['model.test_cfg.mode'] = 'whole'
    torch.manual_seed(0)
    result = export_main(argv)
    assert result['dynamic'] is not static
    assert max(result['diffs']) < TOL and len(result['diffs']) == (
        1 if static else 2)
    torch.manual_seed(0)  # the same random weights as the export
    model = init_model(config, cfg_options=options)
    bgr = _bgr_image(256, 512)
    api = inference_model(model, bgr).seg_logits.numpy()
    np.testing.assert_allclose(_onnx_logits(out, bgr)[0], api, atol=TOL,
                               rtol=0)


def test_dynamic_export_runs_other_sizes(tmp_path):
    pytest.importorskip('onnxruntime', reason='onnxruntime '
                        '(requirements-test.txt) runs the exported graph')
    options = [f'{k}={v}'.replace(' ', '') for k, v in _tiny(DACS).items()]
    out = str(tmp_path / 'dyn.onnx')
    result = export_main([DACS, 'none', '--shape', '64', '96', '--out', out,
                          '--cfg-options'] + options)
    wrapper = result['network']
    for h, w in ((40, 200), (96, 33)):
        bgr = _bgr_image(h, w, seed=h)
        rgb = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1)[None]
        with torch.no_grad():
            ref = wrapper(rgb.float()).numpy()
        np.testing.assert_allclose(_onnx_logits(out, bgr), ref, atol=TOL,
                                   rtol=0)


def test_what_is_not_exported_is_named(tmp_path, capsys):
    out = str(tmp_path / 'x.onnx')
    assert run_cli(export_main, [HRDA, 'none', '--shape', '128', '128',
                                 '--out', out]) == 1
    assert "test_cfg.mode='slide'" in capsys.readouterr().err
    eglp = osp.join(TOY, 'toy_eglp_hrda_daformer_mitb0.py')
    assert run_cli(export_main, [eglp, 'none', '--shape', '128', '128',
                                 '--out', out, '--whole', '--test-model',
                                 'fusion']) == 1
    assert "test_model='fusion'" in capsys.readouterr().err
    assert run_cli(export_main, [DACS, 'none', '--shape', '20', '20',
                                 '--out', out]) == 1
    assert '--static' in capsys.readouterr().err
    assert not osp.exists(out)


def test_missing_onnxruntime_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    options = [f'{k}={v}'.replace(' ', '') for k, v in _tiny(DACS).items()]
    assert run_cli(export_main, [DACS, 'none', '--shape', '64', '64',
                                 '--out', str(tmp_path / 'm.onnx'),
                                 '--cfg-options'] + options) == 1
    err = capsys.readouterr().err
    assert 'onnxruntime' in err and '--no-check' in err
    assert osp.isfile(str(tmp_path / 'm.onnx'))  # the export is kept
