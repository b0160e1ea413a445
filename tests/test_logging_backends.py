"""log_config.hooks (0.x) and visualizer (1.x) -> mmengine's Visualizer."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmseg.engine import visualizer_cfg
from mmseg.engine.hooks.debug_image_hook import UDADebugImageHook
from mmseg.engine.visualizer_cfg import visualizer_from
from mmseg.errors import ConfigError


def _cfg(**keys):
    return Config(dict(keys), cfg_text='# test', filename='my_cfg.py')


def _types(vis):
    return [b['type'] for b in vis['vis_backends']]


def test_without_backends_only_local_files():
    vis = visualizer_from(_cfg(log_config=dict(interval=5)), 5)
    assert vis == dict(type='Visualizer',
                       vis_backends=[dict(type='LocalVisBackend')])


def test_0x_logger_hooks_become_backends():
    cfg = _cfg(log_config=dict(interval=10, hooks=[
        dict(type='TextLoggerHook', by_epoch=False),
        dict(type='TensorboardLoggerHook', log_dir='/tmp/tb', interval=10),
        dict(type='WandbLoggerHook', init_kwargs=dict(project='night')),
    ]))
    visualizer_cfg_has = visualizer_cfg._has_package
    try:
        visualizer_cfg._has_package = lambda name: True
        vis = visualizer_from(cfg, 10)
    finally:
        visualizer_cfg._has_package = visualizer_cfg_has
    assert vis['vis_backends'] == [
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend', save_dir='/tmp/tb'),
        dict(type='WandbVisBackend', init_kwargs=dict(project='night')),
    ]


def test_1x_visualizer_becomes_backends():
    cfg = _cfg(visualizer=dict(
        type='SegLocalVisualizer', name='visualizer',
        vis_backends=[dict(type='LocalVisBackend'),
                      dict(type='TensorboardVisBackend')]))
    vis = visualizer_from(cfg, 50)
    assert vis['type'] == 'Visualizer' and 'name' not in vis
    assert _types(vis) == ['LocalVisBackend', 'TensorboardVisBackend']


@pytest.mark.parametrize('keys, message', [
    (dict(log_config=dict(hooks=[dict(type='TextLoggerHook'),
                                 dict(type='MlflowLoggerHook')])),
     r'log_config.hooks\[1\].type "MlflowLoggerHook" in my_cfg.py'),
    (dict(log_config=dict(hooks=[dict(type='TensorboardLoggerHook',
                                      reset_flag=True)])),
     r'log_config.hooks\[0\].reset_flag in my_cfg.py'),
    (dict(log_config=dict(hooks=[dict(type='TextLoggerHook',
                                      by_epoch=True)])),
     r'log_config.hooks\[0\].by_epoch=True'),
    (dict(log_config=dict(interval=50, hooks=[
        dict(type='TextLoggerHook', interval=10)])),
     r'log_config.hooks\[0\].interval=10 .*log_config.interval=50'),
    (dict(visualizer=dict(type='Visualizer',
                          vis_backends=[dict(type='NeptuneVisBackend')])),
     r'visualizer.vis_backends\[0\].type "NeptuneVisBackend"'),
    (dict(visualizer=dict(type='MyVisualizer')),
     r'visualizer.type "MyVisualizer" in my_cfg.py'),
    (dict(visualizer=dict(vis_backends=[], alpha=0.5)),
     r'visualizer.alpha in my_cfg.py'),
    (dict(vis_backends=[dict(type='TensorboardVisBackend')]),
     r'vis_backends in my_cfg.py is only read as visualizer.vis_backends'),
])
def test_unknown_types_and_keys_are_refused_by_name(keys, message):
    keys.setdefault('log_config', dict(interval=50))
    with pytest.raises(ConfigError, match=message):
        visualizer_from(_cfg(**keys), keys['log_config'].get('interval', 50))


def test_missing_package_is_named(monkeypatch):
    monkeypatch.setattr(visualizer_cfg, '_has_package',
                        lambda name: name != 'tensorboard')
    cfg = _cfg(log_config=dict(hooks=[dict(type='TensorboardLoggerHook')]))
    with pytest.raises(ConfigError, match=r'needs the package "tensorboard": '
                       r'pip install tensorboard'):
        visualizer_from(cfg, 50)


def test_missing_wandb_is_named():
    if visualizer_cfg._has_package('wandb'):
        pytest.skip('wandb is installed here')
    cfg = _cfg(visualizer=dict(vis_backends=[dict(type='WandbVisBackend')]))
    with pytest.raises(ConfigError, match=r'visualizer.vis_backends\[0\] '
                       r'\(WandbVisBackend\) in my_cfg.py needs the package '
                       r'"wandb"'):
        visualizer_from(cfg, 50)


class _Backend:
    def __init__(self):
        self.images = []

    def add_image(self, name, image, step=0):
        self.images.append((name, image.shape, image.dtype, step))


def test_debug_figure_goes_to_image_backends(tmp_path):
    debug = dict(source_img=torch.zeros(2, 3, 8, 8),
                 source_gt=torch.zeros(2, 1, 8, 8, dtype=torch.long),
                 pseudo_weight=torch.rand(2, 8, 8),
                 img_norm_cfg=dict(mean=[0, 0, 0], std=[1, 1, 1]))
    backend = _Backend()
    paths = UDADebugImageHook(max_samples=1).write(debug, str(tmp_path), 7,
                                                   [backend])
    assert len(paths) == 1 and (tmp_path / '000007_0.png').is_file()
    (name, shape, dtype, step), = backend.images
    assert (name, step, dtype) == ('debug/0', 7, np.uint8)
    assert len(shape) == 3 and shape[2] == 3 and shape[0] > 50
