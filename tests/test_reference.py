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
