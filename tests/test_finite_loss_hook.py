"""FiniteLossHook stops training at a non-finite loss, naming the term."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import RuntimeInfoHook
from mmengine.logging import MessageHub
from mmengine.runner import get_priority

from mmseg.engine.build import hooks_from
from mmseg.engine.hooks.finite_loss_hook import FiniteLossHook


def _runner(name):
    return SimpleNamespace(message_hub=MessageHub(name), iter=6)


def _after_iter(runner, outputs):
    """What the train loop does: RuntimeInfoHook first, then ours."""
    RuntimeInfoHook().after_train_iter(runner, 0, outputs=outputs)
    FiniteLossHook().after_train_iter(runner, 0, outputs=outputs)


def test_finite_losses_pass():
    _after_iter(_runner('finite'), {'decode.loss_seg': torch.tensor(1.5),
                                    'decode.acc_seg': torch.tensor(3.0)})


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_nonfinite_loss_names_the_term(value):
    outputs = {'decode.loss_seg': torch.tensor(1.5),
               'nf.mix.decode.loss_seg': torch.tensor(value),
               'mix.decode.acc_seg': torch.tensor(float('nan'))}
    with pytest.raises(FloatingPointError,
                       match=r'iteration 7: nf\.mix\.decode\.loss_seg = '
                       f'{value}; stopped') as err:
        _after_iter(_runner(f'nonfinite-{value}'), outputs)
    assert 'acc_seg' not in str(err.value)


def test_nonfinite_grad_norm_from_clipping_is_an_error():
    runner = _runner('grad-norm')
    runner.message_hub.update_scalar('train/grad_norm', float('nan'))
    with pytest.raises(FloatingPointError, match='grad_norm = nan'):
        _after_iter(runner, {'decode.loss_seg': torch.tensor(1.0)})


def test_hook_runs_by_default_before_the_checkpoint():
    hooks = hooks_from(Config(dict(runner=dict(max_iters=4))))
    assert hooks['default_hooks']['finite_loss'] == dict(
        type='FiniteLossHook')
    assert get_priority(FiniteLossHook.priority) < get_priority('VERY_LOW')
    assert get_priority(FiniteLossHook.priority) > get_priority(
        RuntimeInfoHook.priority)
