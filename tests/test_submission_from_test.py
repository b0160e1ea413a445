"""Submissions through tools/test.py: the network's confidence (max softmax
probability) comes with the prediction; ``--eval-option pack=FILE.zip``
packs the server's zip after writing; bad combinations stop before any
inference."""
import os
import os.path as osp
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from e2e_config import write_tiny_config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from mmseg.utils.cli import run_cli
from tools.test import main as run_test
from uda_fixtures import sample_batch, tiny_model_cfg

register_all_modules()


def test_predict_with_confidence_is_the_max_softmax_probability():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg()).eval()
    batch = sample_batch(labelled=False)
    plain = model.val_step(batch)
    scored = model.val_step({**batch, 'with_confidence': True})
    probs = model.inference(batch['img'], batch['img_metas'], rescale=True)
    for i, (a, b) in enumerate(zip(plain, scored)):
        assert 'seg_confidence' not in a
        assert torch.equal(a['pred_sem_seg'], b['pred_sem_seg'])
        conf = b['seg_confidence']
        assert conf.shape == a['pred_sem_seg'].shape
        torch.testing.assert_close(conf, probs[i].max(0).values)
        assert float(conf.min()) >= 1 / 19 - 1e-6 and float(conf.max()) <= 1


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """A tiny toy config, its generated data and a randomly initialised
    checkpoint (no training needed to check the file layout)."""
    from mmseg.config import load_config
    from mmseg.engine.toy_assets import prepare_toy_assets
    tmp = tmp_path_factory.mktemp('pack')
    cfg = write_tiny_config(str(tmp), 'toy_dacs_daformer_mitb0.py',
                            str(tmp / 'toy'))
    config = load_config(cfg)
    prepare_toy_assets(config)
    torch.manual_seed(0)
    model = MODELS.build(dict(config.model))
    ckpt = str(tmp / 'ckpt.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return cfg, ckpt, tmp


@pytest.mark.slow
def test_test_py_packs_dark_zurich_with_network_confidence(tiny_run,
                                                           capsys):
    cfg, ckpt, tmp = tiny_run
    out = str(tmp / 'dz_test.zip')
    preds = str(tmp / 'preds')
    run_test([cfg, ckpt, '--test-set', '--format-only', '--device', 'cpu',
               '--eval-option', f'imgfile_prefix={preds}', f'pack={out}'])
    printed = capsys.readouterr().out
    assert f'wrote {out}: 6 PNGs for 2 test images' in printed
    with zipfile.ZipFile(out) as zf:
        names = sorted(zf.namelist())
        images = sorted(os.listdir(osp.join(
            tmp, 'toy', 'dark_zurich', 'rgb_anon', 'test', 'night',
            'GOPR0355')))
        assert names == sorted(f'{folder}/{name}' for name in images
                               for folder in ('confidence', 'labelTrainIds',
                                              'labelTrainIds_invalid'))
        conf = np.asarray(Image.open(zf.open(f'confidence/{images[0]}')))
        label = np.asarray(Image.open(zf.open(f'labelTrainIds/{images[0]}')))
    assert conf.dtype == np.uint16 and len(np.unique(conf)) > 1
    assert label.max() < 19
    # the PNGs tools/test.py wrote are train ids with confidence maps
    assert sorted(os.listdir(preds)) == sorted(images + ['confidence'])


@pytest.mark.parametrize('options,needle', [
    (['--format-only', '--eval-option', 'pack=x.zip', 'to_label_id=True'],
     'leave out to_label_id=True'),
    (['--format-only', '--eval-option', 'pack=x.tar'], '.zip'),
    (['--show-dir', '{tmp}/show', '--eval-option', 'pack=x.zip'],
     'need --format-only'),
])
def test_bad_pack_options_stop_before_inference(tmp_path, capsys, options,
                                                needle):
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            str(tmp_path / 'toy'))
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'')
    options = [o.format(tmp=tmp_path) for o in options]
    code = run_cli(run_test, [cfg, str(ckpt), '--test-set', *options],
                   prog='test.py')
    err = capsys.readouterr().err.strip()
    assert code == 1 and needle in err and len(err.splitlines()) == 1
    assert not osp.exists(tmp_path / 'toy')  # no data, no inference
    assert not osp.exists(tmp_path / 'show')


@pytest.mark.slow
def test_evaluation_table_and_json_say_the_split(tiny_run, tmp_path,
                                                 monkeypatch):
    import json

    from mmseg.evaluation import iou_metric
    cfg, ckpt, _ = tiny_run
    tables = []
    monkeypatch.setattr(iou_metric, 'print_log',
                        lambda msg, **kw: tables.append(msg))
    out = str(tmp_path / 'val.json')
    metrics = run_test([cfg, ckpt, '--eval', 'mIoU', '--device', 'cpu',
                        '--out', out])
    assert 'mIoU' in metrics  # keys the tools read are unchanged
    assert tables[0].startswith('per class results (DarkZurich night val, ')
    assert tables[1].startswith('Summary (DarkZurich night val, ')
    with open(out) as f:
        saved = json.load(f)
    assert saved['split'] == 'val' and 'mIoU' in saved['summary']


@pytest.mark.parametrize('test_model', ['student', 'teacher'])
def test_uda_model_passes_confidence_of_the_deployed_network(test_model):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='DACS', model=tiny_model_cfg(),
                              max_iters=10, test_model=test_model))
    model.init_weights()
    model.eval()
    batch = sample_batch(labelled=False)
    results = model.val_step({**batch, 'with_confidence': True})
    network = model.deployed_model()
    probs = network.inference(batch['img'], batch['img_metas'], rescale=True)
    for i, result in enumerate(results):
        torch.testing.assert_close(result['seg_confidence'],
                                   probs[i].max(0).values)
