"""Which network a UDA model deploys (``uda.test_model``)."""
import pytest
import torch

from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity
from mmseg.models.uda.parts.eglp.dms import DynamicMixing
from mmseg.models.uda.parts.eglp.fis import fis_fuse
from mmseg.models.uda.parts.eglp.teacher_fusion import TeacherFusion
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import sample_batch, tiny_model_cfg

register_all_modules()


class MeanAbsDiff(torch.nn.Module):

    def forward(self, x, y):
        return (x - y).abs().mean(dim=(1, 2, 3))


def _perturb(module, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=g))


def _logits(network, batch):
    network.eval()
    return network.encode_decode(batch['img'], batch['img_metas'])


def _dacs(test_model):
    model = MODELS.build(dict(type='DACS', model=tiny_model_cfg(),
                              max_iters=10, test_model=test_model))
    model.init_weights()
    _perturb(model.teacher.model, 1)  # teacher differs from the student
    return model.eval()


@pytest.mark.parametrize('test_model', ['student', 'teacher'])
def test_dacs_deploys_the_named_network(test_model):
    model = _dacs(test_model)
    batch = sample_batch(labelled=False)
    network = model.model if test_model == 'student' else model.teacher.model
    out = model(batch['img'], batch['img_metas'], mode='tensor')
    assert torch.equal(out, _logits(network, batch))
    other = model.teacher.model if test_model == 'student' else model.model
    assert not torch.allclose(out, _logits(other, batch))


def test_unknown_or_impossible_test_model_is_an_error():
    with pytest.raises(ValueError, match="test_model.*'nfnet'"):
        MODELS.build(dict(type='DACS', model=tiny_model_cfg(), max_iters=1,
                          test_model='nfnet'))  # an EGLP network
    with pytest.raises(ValueError, match='source-only'):
        MODELS.build(dict(type='DACS', model=tiny_model_cfg(), max_iters=1,
                          source_only=True, test_model='teacher'))


def _eglp(test_model, mode='hard_pig', ema=0.99):
    model = MODELS.build(dict(
        type='EGLP', model=tiny_model_cfg(), max_iters=10,
        test_model=test_model,
        dms=dict(type='DMS', mode=mode, k=2, ramp_iters=5,
                 similarity=ClassSimilarity(lpips=MeanAbsDiff(), ema=ema))))
    model.init_weights()
    for seed, net in enumerate((model.teacher.model, model.nfnet,
                                model.nf_teacher.model), start=1):
        _perturb(net, seed)
    sim = model.dms.similarity
    sim.seen[[0, 2, 8, 10]] = True
    sim.similarity[[0, 2, 8, 10]] = torch.tensor([0.9, 0.2, 0.5, 0.1])
    return model.eval()


@pytest.mark.parametrize('test_model', ['nfnet', 'nfnet_teacher'])
def test_eglp_deploys_nfnet_or_its_teacher(test_model):
    model = _eglp(test_model)
    batch = sample_batch(labelled=False)
    network = (model.nfnet if test_model == 'nfnet' else
               model.nf_teacher.model)
    out = model(batch['img'], batch['img_metas'], mode='tensor')
    assert torch.equal(out, _logits(network, batch))


def test_ema_ranks_least_similar_first_and_unseen_never_guides():
    model = _eglp('student')
    ranks = model.dms.similarity.ema_ranks()
    # similarities 0.9 road, 0.2 building, 0.5 vegetation, 0.1 sky
    assert ranks[0, [10, 2, 8, 0]].tolist() == [1, 2, 3, 4]
    unseen = [c for c in range(19) if c not in (0, 2, 8, 10)]
    assert (ranks[0, unseen] == 20).all()
    with pytest.raises(ValueError, match='EMA'):
        ClassSimilarity(lpips=MeanAbsDiff()).ema_ranks()


@pytest.mark.parametrize('mode', ['hard_pig', 'soft'])
def test_fusion_deploys_the_dms_fusion_of_both_teachers(mode):
    model = _eglp('fusion', mode)
    batch = sample_batch(labelled=False)
    p_uda = _logits(model.teacher.model, batch).softmax(1)
    p_nf = _logits(model.nf_teacher.model, batch).softmax(1)
    ranks = model.dms.similarity.ema_ranks().expand(2, -1)
    if mode == 'hard_pig':  # guides (k=2): sky and building
        expected = fis_fuse(p_uda.argmax(1), p_nf.argmax(1), ranks, 2)
    else:
        expected = model.dms.soft_fuse(p_uda, p_nf, ranks, 5).argmax(1)
    out = model(batch['img'], batch['img_metas'], mode='tensor')
    assert torch.equal(out.argmax(1), expected)
    assert not torch.equal(expected, p_uda.argmax(1))
    preds = model(batch['img'], batch['img_metas'], mode='predict')
    assert all(torch.equal(r['pred_sem_seg'], e)
               for r, e in zip(preds, expected))


def test_fusion_needs_the_ema_similarity():
    with pytest.raises(ValueError, match='dms.similarity.ema'):
        _eglp('fusion', ema=None)


def test_fusion_owns_no_weights():
    model = _eglp('fusion')
    keys = set(model.state_dict())
    assert isinstance(model.deployed_model(), TeacherFusion)
    assert keys == set(_eglp('student').state_dict())


def test_deploy_labels_soft_uses_the_finished_ramp():
    dms = DynamicMixing(mode='soft', k=2, ramp_iters=100, threshold=0.5,
                        similarity=ClassSimilarity(lpips=MeanAbsDiff(),
                                                   ema=0.9))
    dms.similarity.seen[[1, 2]] = True
    dms.similarity.similarity[[1, 2]] = torch.tensor([0.1, 0.3])
    p_uda = torch.tensor([0.1, 0.5, 0.4]).view(1, 3, 1, 1)
    p_nf = torch.tensor([0.1, 0.1, 0.8]).view(1, 3, 1, 1)
    p_uda = torch.nn.functional.pad(p_uda, (0, 0, 0, 0, 0, 16))
    p_nf = torch.nn.functional.pad(p_nf, (0, 0, 0, 0, 0, 16))
    # ranks: class 1 -> 1 (a = 1), class 2 -> 2 (a = 0.74)
    # fused: [0.1, 0.1, 0.74 * 0.8 + 0.26 * 0.4 = 0.696] -> class 2
    assert dms.deploy_labels(p_uda, p_nf).item() == 2


def test_uda_checkpoint_loads_whole_and_strictly(tmp_path):
    from mmseg.models.weights import load_uda_checkpoint
    from mmseg.utils.checkpoint_io import CheckpointLoadError
    source, target = _dacs('teacher'), _dacs('teacher')
    _perturb(source.teacher.model, 7)
    state = source.state_dict()
    torch.save(dict(state_dict=state), tmp_path / 'full.pth')
    load_uda_checkpoint(target, str(tmp_path / 'full.pth'))
    batch = sample_batch(labelled=False)
    assert torch.equal(target(batch['img'], batch['img_metas'], mode='tensor'),
                       _logits(source.teacher.model, batch))
    state = {k: v for k, v in state.items() if not k.startswith('teacher.')}
    torch.save(dict(state_dict=state), tmp_path / 'student_only.pth')
    with pytest.raises(CheckpointLoadError,
                       match=r'student_only\.pth.*missing keys: teacher\.'):
        load_uda_checkpoint(target, str(tmp_path / 'student_only.pth'))
