"""Every printed or saved metric says its split: table titles, the --out
JSON, sweep summaries and curve panels (the metric keys stay ``mIoU``, ...,
for the tools that read them)."""
import pytest
from mmengine.config import Config

from mmseg.engine.build import eval_title_of
from mmseg.evaluation.plots import panel_title
from mmseg.evaluation.titles import eval_title, split_name, split_of


@pytest.mark.parametrize('dataset, default, name', [
    (dict(type='MyDataset', img_dir='images'), 'val', 'My images val'),
    (dict(type='MyDataset'), 'test', 'My test'),
    (dict(type='DarkZurichDataset', img_dir='rgb_anon/val/night'), 'test',
     'DarkZurich night val'),  # the folder's own split word wins
    (dict(type='ACDCDataset', subset='test', condition='night'), 'val',
     'ACDC night test'),
    (dict(type='MyDataset', img_dir='night/imgs'), 'val', 'My night val'),
])
def test_split_name_falls_back_to_the_known_split(dataset, default, name):
    assert split_name(dataset, default) == name


def test_split_of_reads_subset_then_folder_then_default():
    assert split_of(dict(subset='test', img_dir='x/val')) == 'test'
    assert split_of(dict(img_dir='leftImg8bit/val/frankfurt')) == 'val'
    assert split_of(dict(img_dir='images'), 'val') == 'val'
    assert split_of(dict(img_dir='images')) is None


def test_training_time_evaluation_title_says_val():
    cfg = Config(dict(data=dict(val=dict(type='MyDataset', img_dir='imgs')),
                      uda=dict(alpha=0.99)))
    assert eval_title_of(cfg) == 'My imgs val, student'
    assert eval_title(dict(type='MyDataset', img_dir='imgs'), 'teacher',
                      'test') == 'My imgs test, teacher'


def test_curve_panels_of_evaluation_metrics_say_val():
    assert panel_title('mIoU') == 'mIoU (val)'
    assert panel_title('IoU.road') == 'IoU.road (val)'
    assert panel_title('decode.loss_seg') == 'decode.loss_seg'


def test_sweep_summary_header_says_val(tmp_path):
    from tools.collect_results import main as collect_main
    run = tmp_path / '261121_1200_toy_dacs_s0_abcde' / '20261121'
    run.mkdir(parents=True)
    (run / '20261121.log').write_text(
        'Iter(val) [1/1]  aAcc: 50.0  mIoU: 7.0  IoU.road: 70.0\n')
    lines = collect_main([str(tmp_path), '--classes', 'road'])
    assert lines[0].split(' | ')[2:] == ['val mIoU mean', 'std', 'per seed',
                                         'val IoU road']
