"""The data-parallel UDA step on 2 CPU processes (gloo): every rank ends a
step with the same networks, and the step's gradient is the mean of the
ranks' own gradients."""
import copy

import pytest
import torch

from dist_harness import run_on_ranks

NETWORKS = ('model.', 'teacher.', 'nfnet.', 'nf_teacher.',
            'feature_distance.')
STEPS = 3


def build(case: str):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    from uda_fixtures import tiny_model_cfg
    register_all_modules()
    if case == 'dacs':
        cfg = dict(type='DACS', model=tiny_model_cfg(), max_iters=10,
                   alpha=0.9, pseudo_threshold=0.5,
                   imnet_feature_dist_lambda=0.005)
    elif case == 'hrda_mic':
        cfg = dict(type='DACS', model=tiny_model_cfg(hrda=True),
                   max_iters=10, alpha=0.9, pseudo_threshold=0.5,
                   mask_mode='separate', mask_lambda=1,
                   mask_generator=dict(type='block', mask_ratio=0.7,
                                       mask_block_size=8))
    elif case == 'eglp':
        cfg = dict(type='EGLP', model=tiny_model_cfg(hrda=True),
                   max_iters=10, alpha=0.9, pseudo_threshold=0.5,
                   dms=dict(type='DMS', mode='hard_pig', k=2,
                            similarity=dict(metric='lpips', lpips=dict(
                                type='LPIPS', pretrained=False))))
    else:
        raise ValueError(case)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def rank_batch(rank: int, step: int, prompt: bool) -> dict:
    """Different samples on every rank and step."""
    from uda_fixtures import sample_batch
    seed = 100 * step + 10 * rank
    data = dict(source=sample_batch(seed=seed + 1),
                target=sample_batch(labelled=False, seed=seed + 2))
    if prompt:
        data['prompt'] = sample_batch(seed=seed + 3)
    return data


def networks(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.startswith(NETWORKS) and torch.is_tensor(v)}


def train(model, wrapped, rank: int, case: str) -> dict:
    from uda_fixtures import optim_wrapper_for
    optim_wrapper = optim_wrapper_for(model)
    torch.manual_seed(1000 + rank)  # rank-distinct step randomness
    for step in range(STEPS):
        wrapped.train_step(rank_batch(rank, step, case == 'eglp'),
                           optim_wrapper)
    return networks(model)


def grads_of_one_step(model, wrapped, rank: int, case: str) -> dict:
    """Each trainable parameter's gradient as the optimiser sees it."""
    from uda_fixtures import optim_wrapper_for
    optim_wrapper = optim_wrapper_for(model)
    seen = {}
    names = {id(p): n for n, p in model.named_parameters()}

    def record(optimizer, args, kwargs):
        for group in optimizer.param_groups:
            for p in group['params']:
                seen[names[id(p)]] = (None if p.grad is None else
                                      p.grad.detach().clone())

    optim_wrapper.optimizer.register_step_pre_hook(record)
    wrapped.train_step(rank_batch(rank, 0, case == 'eglp'), optim_wrapper)
    return seen


def step_worker(rank: int, world_size: int, cases) -> dict:
    from mmseg.engine.distributed import (UDADataParallel,
                                          broadcast_module_state)
    from mmseg.engine.runner import apply_rng_state, capture_rng_state
    out = {}
    for case in cases:
        model = build(case)
        broadcast_module_state(model)
        rng = capture_rng_state()
        local = copy.deepcopy(model)
        local_grads = grads_of_one_step(local, local, rank, case)
        apply_rng_state(rng)
        synced_grads = grads_of_one_step(model, UDADataParallel(model),
                                         rank, case)
        out[case] = dict(local_grads=local_grads, synced_grads=synced_grads)
        model = build(case)
        broadcast_module_state(model)
        local = copy.deepcopy(model)
        out[case]['unsynced'] = train(local, local, rank, case)
        out[case]['synced'] = train(model, UDADataParallel(model), rank,
                                    case)
    return out


CASES = ('dacs', 'hrda_mic', 'eglp')


def head_weight(tensors: dict) -> torch.Tensor:
    return next(v for k, v in tensors.items()
                if k.startswith('model.') and k.endswith('conv_seg.weight'))


@pytest.fixture(scope='module')
def results():
    return run_on_ranks(step_worker, 2, cases=CASES)


@pytest.mark.parametrize('case', CASES)
def test_ranks_hold_identical_networks_after_steps(results, case):
    rank0, rank1 = results[0][case]['synced'], results[1][case]['synced']
    assert rank0.keys() == rank1.keys()
    assert any(k.startswith('teacher.') for k in rank0)
    if case == 'eglp':
        assert any(k.startswith('nf_teacher.') for k in rank0)
    different = [k for k in rank0 if not torch.equal(rank0[k], rank1[k])]
    assert not different, different[:5]
    # without the wrapper the ranks' different data make them diverge
    free0, free1 = results[0][case]['unsynced'], results[1][case]['unsynced']
    assert not torch.equal(head_weight(free0), head_weight(free1))


@pytest.mark.parametrize('case', CASES)
def test_step_gradient_is_the_mean_of_the_ranks_gradients(results, case):
    local = [results[r][case]['local_grads'] for r in range(2)]
    synced = [results[r][case]['synced_grads'] for r in range(2)]
    assert synced[0].keys() == local[0].keys()
    if case == 'eglp':
        assert any(k.startswith('nfnet.') and v is not None
                   for k, v in synced[0].items())
    checked = 0
    for name, grad in synced[0].items():
        assert torch.equal(grad, synced[1][name]) if grad is not None \
            else synced[1][name] is None
        parts = [g[name] for g in local]
        if grad is None:
            assert all(p is None for p in parts), name
            continue
        parts = [torch.zeros_like(grad) if p is None else p for p in parts]
        torch.testing.assert_close(grad, (parts[0] + parts[1]) / 2,
                                   rtol=1e-6, atol=1e-9)
        checked += 1
    assert checked > 10
    assert not torch.equal(head_weight(local[0]), head_weight(local[1]))
