"""What users read: optimiser summary instead of per-parameter lines, table
titles, --show-dir figures, the debug figure, console filters, packaging."""
import logging
import os.path as osp
import tomllib

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from mmseg.engine.console import (drop_file_only_records,
                                  drop_mmengine_noise)
from mmseg.engine.optim_constructor import TrainableOptimWrapperConstructor
from mmseg.evaluation import iou_metric
from mmseg.evaluation.titles import deployed_network, eval_title, split_name
from mmseg.evaluation.visualize import (TITLE_HEIGHT, legend,
                                        present_classes, show_image)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_optimizer_logs_one_summary_not_a_line_per_parameter():
    logger = MMLogger.get_instance('test_paramwise_summary')
    records = _Records()
    logger.addHandler(records)
    model = nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2))
    TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.01)),
        dict(custom_keys={'1': dict(decay_mult=0.0)}))(model)
    assert not [m for m in records.messages if 'paramwise_options' in m]
    summary = [m for m in records.messages if m.startswith('optimizer')]
    assert summary == ['optimizer parameter groups: 2 tensors at lr=1, '
                       'weight_decay=0.01; 2 tensors at lr=1, weight_decay=0']


@pytest.mark.parametrize('dataset, name', [
    (dict(type='DarkZurichDataset', img_dir='rgb_anon/val/night'),
     'DarkZurich night val'),
    (dict(type='CityscapesDataset', img_dir='leftImg8bit/val'),
     'Cityscapes val'),
    (dict(type='ACDCDataset', subset='test', condition='night'),
     'ACDC night test'),
    (dict(type='NightCityDataset', img_dir='img/val'), 'NightCity val'),
    (dict(type='MyDataset', img_dir='images'), 'My images'),
])
def test_split_names(dataset, name):
    assert split_name(dataset) == name


def test_title_names_the_deployed_network():
    val = dict(type='DarkZurichDataset', img_dir='rgb_anon/val/night')
    assert eval_title(val, deployed_network(dict(uda=dict(alpha=0.9)))) == \
        'DarkZurich night val, student'
    assert deployed_network(dict(uda=dict(test_model='teacher'))) == 'teacher'
    assert deployed_network(dict(model=dict())) == 'segmentor'


def test_metric_tables_carry_the_title(monkeypatch):
    logged = []
    monkeypatch.setattr(iou_metric, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    metric = iou_metric.IoUMetric(classes=('a', 'b'),
                                  title='DarkZurich night val, student')
    metric.process(None, [dict(pred_sem_seg=torch.zeros(2, 2, dtype=torch.long),
                               gt_sem_seg=torch.zeros(2, 2, dtype=torch.long))])
    metric.evaluate(1)
    assert logged[0].startswith(
        'per class results (DarkZurich night val, student):')
    assert logged[1].startswith('Summary (DarkZurich night val, student):')


def test_console_filters_drop_env_config_hooks_and_mmengine_noise():
    def record(msg):
        return logging.LogRecord('x', logging.INFO, '', 0, msg, None, None)
    for msg in ('Config:\nx = 1', 'Hooks will be executed in the following '
                'order:\n...', '\n' + '-' * 60 + '\nSystem environment:\n'):
        assert not drop_file_only_records(record(msg))
    assert drop_file_only_records(record('Iter(train) [1/4]'))
    assert not drop_mmengine_noise(record(
        '"FileClient" will be deprecated in future. Please use io functions'))
    assert drop_mmengine_noise(record('Saving checkpoint at 4 iterations'))


def test_show_image_puts_image_label_prediction_side_by_side_with_legend():
    img = np.full((20, 30, 3), 128, np.uint8)
    pred = np.zeros((20, 30), np.int64)
    pred[:, 15:] = 11  # person
    label = np.full((10, 15), 255, np.int64)  # other size: resized
    label[:5] = 0
    out = show_image(img, pred, label)
    assert out.shape[1] == 90 and out.shape[0] > 20 + TITLE_HEIGHT
    assert present_classes(pred, label, num_classes=19) == [0, 11]
    strip = out[20 + TITLE_HEIGHT:]
    # the legend holds the swatches of road (128, 64, 128) and person
    # (220, 20, 60), in BGR
    for rgb in ((128, 64, 128), (220, 20, 60)):
        assert (strip == np.array(rgb[::-1], np.uint8)).all(-1).any()
    # without labels: image | prediction; the demo's overlay alone
    unlabelled = show_image(img, pred)
    assert unlabelled.shape[1] == 60
    assert np.array_equal(unlabelled[TITLE_HEIGHT:TITLE_HEIGHT + 20, :30],
                          img)
    alone = show_image(img, pred, show_input=False)
    assert alone.shape[1] == 30
    assert legend([], 30).shape[1] == 30
    # one figure size per run: the legend has room for every class, and
    # ``size`` resizes the image first
    few = show_image(img, np.zeros((20, 30), np.int64))
    many = show_image(img, np.arange(600).reshape(20, 30) % 19)
    assert few.shape == many.shape == unlabelled.shape
    bigger = show_image(np.zeros((40, 50, 3), np.uint8), pred, size=(30, 20))
    assert bigger.shape == unlabelled.shape


def test_debug_figure_has_colour_scales_for_weights():
    from mmseg.engine.hooks.debug_image_hook import PANELS, UDADebugImageHook
    norm = dict(mean=[0, 0, 0], std=[1, 1, 1])
    debug = dict(source_img=torch.rand(1, 3, 8, 8) * 255,
                 pseudo_weight=torch.rand(1, 8, 8),
                 scale_attention=torch.rand(1, 1, 8, 8), img_norm_cfg=norm)
    panels = [p for p in PANELS if p[0] in debug]
    fig = UDADebugImageHook.figure(debug, panels, 0)
    # three panels plus one colour bar per weight panel
    assert len(fig.axes) == 5
    titles = [ax.get_title() for ax in fig.axes]
    assert 'HRDA Scale Attention (target)' in titles


def test_hrda_exposes_its_scale_attention():
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/_base_/models/hrda_daformer_sepaspp_mitb0.py'))
    model = dict(cfg.model, pretrained=None)
    segmentor = MODELS.build(model).eval()
    att = segmentor.scale_attention(torch.rand(1, 3, 64, 64))
    assert att.shape == (1, 1, 64, 64)
    assert 0 <= float(att.min()) and float(att.max()) <= 1


def test_pyproject_packages_cover_mmseg():
    from setuptools import find_packages
    with open(osp.join(REPO, 'pyproject.toml'), 'rb') as f:
        project = tomllib.load(f)
    find = project['tool']['setuptools']['packages']['find']
    packages = set(find_packages(REPO, include=find['include']))
    on_disk = {osp.relpath(d, REPO).replace(osp.sep, '.')
               for d in _package_dirs(osp.join(REPO, 'mmseg'))}
    assert 'mmseg.models.uda.parts' in packages
    assert packages == on_disk
    dynamic = project['tool']['setuptools']['dynamic']
    assert dynamic['dependencies']['file'] == ['requirements.txt']
    assert dynamic['version']['attr'] == 'mmseg.__version__'


def _package_dirs(root):
    import os
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        if any(f.endswith('.py') for f in files):
            yield folder


def test_debug_figure_outlines_the_hr_crop_on_the_mixed_panels():
    from matplotlib.patches import Rectangle
    from mmseg.engine.hooks.debug_image_hook import PANELS, UDADebugImageHook
    norm = dict(mean=[0, 0, 0], std=[1, 1, 1])
    debug = dict(source_img=torch.rand(1, 3, 16, 16) * 255,
                 mixed_img=torch.rand(1, 3, 16, 16) * 255,
                 mixed_label=torch.zeros(1, 1, 16, 16, dtype=torch.long),
                 hr_crop_box=(4, 12, 0, 8), img_norm_cfg=norm)
    panels = [p for p in PANELS if p[0] in debug]
    fig = UDADebugImageHook.figure(debug, panels, 0)
    boxes = {ax.get_title(): [p for p in ax.patches
                              if isinstance(p, Rectangle)]
             for ax in fig.axes}
    assert not boxes['Source Image']
    for title in ('Mixed Image', 'Mixed Label'):
        (rect, ) = boxes[title]
        assert (rect.get_width(), rect.get_height()) == (8, 8)
        assert rect.get_xy() == (-0.5, 3.5)


def test_hrda_step_reports_the_hr_crop_it_trained_on():
    from mmseg.models.segmentors.crop_box import scale_box
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    from uda_fixtures import optim_wrapper_for, tiny_model_cfg, uda_batch
    register_all_modules()

    def one_step(spy, draw_in_step=True):
        torch.manual_seed(0)
        model = MODELS.build(dict(type='DACS', model=tiny_model_cfg(True),
                                  max_iters=10, alpha=0.9))
        model.init_weights()
        model.request_debug()
        boxes = []
        if spy:
            forward = model.model.forward_train

            def recording(*args, **kwargs):
                boxes.append(kwargs.get('crop_box'))
                return forward(*args, **kwargs)
            model.model.forward_train = recording
        if not draw_in_step:  # forward_train draws the box itself
            model.hr_crop_box = lambda ctx, shape: {}
        torch.manual_seed(1)
        log = model.train_step(uda_batch(), optim_wrapper_for(model))
        return model, log, boxes

    model, log, boxes = one_step(spy=True)
    trained = boxes[-1]  # the mixed batch's forward
    assert trained is not None
    debug = model.pop_debug()
    assert debug['hr_crop_box'] == scale_box(trained, model.model.scales[-1])
    # drawing the box in the step is the draw forward_train would make
    _, again, _ = one_step(spy=False, draw_in_step=False)
    assert {k: float(v) for k, v in log.items()} == \
        {k: float(v) for k, v in again.items()}
