import pytest

from mmseg.errors import ConfigError
from mmseg.engine.reference import check_reference, reference_line


def test_reference_line_puts_the_result_beside_the_reference():
    ref = dict(value=22.1, label='source-only, same seed', source='README')
    line = reference_line(ref, {'mIoU': 31.234, 'aAcc': 80.0}, 'DarkZurich night val')
    assert line == 'DarkZurich night val mIoU 31.23 (source-only, same seed: 22.10, from README)'
    assert reference_line(None, {'mIoU': 1.0}, 't') is None
    assert 'not measured' in reference_line(dict(value=1, metric='mDice'), {'mIoU': 2.0}, 't')


@pytest.mark.parametrize('bad, match', [
    (dict(value=1, colour='red'), 'unknown key'),
    (dict(label='x'), '"value" must be a number'),
    (dict(value='22'), '"value" must be a number'),
    ([1, 2], 'expected a dict'),
])
def test_check_reference_refuses_bad_entries(bad, match):
    with pytest.raises(ConfigError, match=match):
        check_reference(bad, 'a.py')
    check_reference(dict(value=3.5, label='x', source='y', metric='mIoU'))
    check_reference(None)


def test_train_prints_the_reference_line_last(capsys):
    import importlib.util
    import os.path as osp

    from mmengine.config import Config
    from mmengine.logging import MessageHub
    path = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools', 'train.py')
    spec = importlib.util.spec_from_file_location('train_tool', path)
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    hub = MessageHub.get_instance('test_reference_line')
    hub.update_scalar('val/mIoU', 31.25)
    hub.update_scalar('train/loss', 0.5)

    class Runner:
        message_hub = hub

    val = dict(type='DarkZurichDataset', img_dir='rgb_anon/val/night')
    cfg = Config(dict(data=dict(val=val), reference=dict(value=20, label='source-only, same seed',
                                                         source='README')))
    train.print_reference(cfg, Runner())
    out = capsys.readouterr().out.strip()
    assert out.endswith('night val, segmentor mIoU 31.25 (source-only, same seed: 20.00, '
                        'from README)'), out
    train.print_reference(Config(dict(data=dict(val=val))), Runner())
    assert capsys.readouterr().out == ''
