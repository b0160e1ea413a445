"""with_cp=True (activation checkpointing): same gradients, keys and BN
statistics as without it, for MiT, the DAFormer head and a UDA step."""
import copy

import torch

from mmseg.models.backbones.mix_transformer import MixVisionTransformer
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import optim_wrapper_for, tiny_model_cfg, uda_batch

register_all_modules()
TOL = 1e-5


def tiny_mit(with_cp: bool) -> MixVisionTransformer:
    torch.manual_seed(0)
    model = MixVisionTransformer(embed_dims=(8, 16, 16, 16),
                                 num_heads=(1, 2, 2, 2),
                                 depths=(2, 1, 1, 1), drop_path_rate=0.3,
                                 drop_rate=0.1, with_cp=with_cp)
    model.init_weights()
    return model.train()


def grads(module: torch.nn.Module) -> dict:
    return {n: p.grad.clone() for n, p in module.named_parameters()
            if p.grad is not None}


def assert_same_grads(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and a
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=TOL, rtol=TOL,
                                   msg=name)


def backward_of(model, x, seed=1):
    torch.manual_seed(seed)  # same dropout / drop-path draws
    loss = sum((o * (i + 1)).square().mean() for i, o in enumerate(model(x)))
    loss.backward()
    return grads(model)


def test_mit_with_cp_gives_the_same_gradients_and_keys():
    plain, cp = tiny_mit(False), tiny_mit(True)
    assert plain.state_dict().keys() == cp.state_dict().keys()
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 64)
    assert_same_grads(backward_of(plain, x), backward_of(cp, x))


def test_mit_with_cp_checkpoints_only_when_training_with_grad(monkeypatch):
    import mmseg.models.backbones.mix_transformer as mit
    calls = []
    real = mit.checkpointed
    monkeypatch.setattr(mit, 'checkpointed',
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    model = tiny_mit(True)
    model(torch.randn(1, 3, 32, 32))
    assert len(calls) == 5  # one per block
    calls.clear()
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    model.eval()
    model(torch.randn(1, 3, 32, 32))
    assert not calls


def daformer_head(with_cp: bool):
    cfg = copy.deepcopy(tiny_model_cfg()['decode_head'])
    cfg['with_cp'] = with_cp
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    head.init_weights()
    return head.train()


def test_daformer_head_with_cp_same_gradients_and_bn_statistics():
    plain, cp = daformer_head(False), daformer_head(True)
    cp.load_state_dict(plain.state_dict())
    assert plain.state_dict().keys() == cp.state_dict().keys()
    torch.manual_seed(3)
    feats = [torch.randn(2, c, 16 // 2**i, 16 // 2**i, requires_grad=True)
             for i, c in enumerate((32, 64, 160, 256))]
    out = []
    for head in (plain, cp):
        torch.manual_seed(1)
        head(feats).square().mean().backward()
        out.append((grads(head), [f.grad.clone() for f in feats]))
        for f in feats:
            f.grad = None
    assert_same_grads(out[0][0], out[1][0])
    for a, b in zip(out[0][1], out[1][1]):
        torch.testing.assert_close(a, b, atol=TOL, rtol=TOL)
    for (name, a), b in zip(plain.named_buffers(), cp.buffers()):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=name)


def uda_model(with_cp: bool):
    model_cfg = tiny_model_cfg(hrda=True)
    model_cfg['backbone']['with_cp'] = with_cp
    model_cfg['decode_head']['with_cp'] = with_cp
    torch.manual_seed(0)
    model = MODELS.build(dict(type='DACS', model=model_cfg, max_iters=10,
                              alpha=0.9, pseudo_threshold=0.5,
                              imnet_feature_dist_lambda=0.005,
                              imnet_feature_dist_classes=[6, 7, 11, 12, 13],
                              imnet_feature_dist_scale_min_ratio=0.75))
    model.init_weights()
    return model


def test_uda_step_with_cp_gives_the_same_gradients():
    plain, cp = uda_model(False), uda_model(True)
    cp.load_state_dict(plain.state_dict())
    out = []
    for model in (plain, cp):
        torch.manual_seed(5)
        wrapper = optim_wrapper_for(model)
        for group in wrapper.optimizer.param_groups:
            group['lr'] = 0.0  # keep the weights; compare the gradients
        log = model.train_step(uda_batch(), wrapper)
        out.append((grads(model.model), log))
    assert_same_grads(out[0][0], out[1][0])
    for key in out[0][1]:
        torch.testing.assert_close(out[0][1][key], out[1][1][key],
                                   atol=TOL, rtol=TOL, msg=key)
