"""Cross-iteration state of the UDA plug-ins is identical on every rank.

Two CPU processes (gloo) feed each part different data; the part's state
must be bitwise the same on both ranks and, where the rule says so, the
same as one process that saw both ranks' data (rank 0's first).
"""
from typing import Dict, List, Tuple

import pytest
import torch
from torch import nn

from dist_harness import assert_same, run_on_ranks
from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity
from mmseg.models.uda.parts.context import (MixedBatch, PseudoLabels,
                                            UDAStepContext)
from mmseg.models.uda.parts.dsrnss.longtail_memory import LongTailMemoryBank
from mmseg.models.uda.parts.dsrnss.prototype_alignment import \
    FeaturePrototypeAlignment
from mmseg.models.uda.parts.eglp.rare_class_memory import (RCM_CLASSES,
                                                           RareClassMemory)
from mmseg.utils import dist as udist
from uda_fixtures import NORM, optim_wrapper_for, tiny_model_cfg

WORLD = 2
STEPS = 3
RCM_VARIANTS = {'cumulative': dict(), 'momentum': dict(freq_momentum=0.9)}


# ------------------------------------------------------------- the inputs
def _generator(rank: int, step: int, part: int) -> torch.Generator:
    return torch.Generator().manual_seed(1000 * part + 10 * rank + step)


def _source(rank: int, step: int, part: int, batch: int = 2,
            size: int = 32) -> Tuple[torch.Tensor, torch.Tensor]:
    """Images and labels with a few 6x6 rare-class squares."""
    g = _generator(rank, step, part)
    img = torch.randn(batch, 3, size, size, generator=g)
    label = torch.zeros(batch, 1, size, size, dtype=torch.long)
    for b in range(batch):
        for _ in range(3):
            cls = RCM_CLASSES[int(torch.randint(len(RCM_CLASSES), (1, ),
                                                generator=g))]
            y, x = torch.randint(0, size - 6, (2, ), generator=g).tolist()
            label[b, 0, y:y + 6, x:x + 6] = cls
    return img, label


def _ctx(iteration: int, img: torch.Tensor, label: torch.Tensor,
         pseudo: torch.Tensor) -> UDAStepContext:
    batch = img.shape[0]
    return UDAStepContext(
        iteration=iteration,
        source=dict(img=img, gt_semantic_seg=label,
                    img_metas=[dict(img_norm_cfg=NORM)] * batch),
        target=dict(img=-img),
        student=None,
        pseudo=PseudoLabels(label=pseudo,
                            weight=torch.full(pseudo.shape, 0.5)))


def _mixed(img: torch.Tensor, label: torch.Tensor) -> MixedBatch:
    b, _, h, w = img.shape
    return MixedBatch(img=img.flip(-1), label=label.flip(-1),
                      weight=torch.full((b, h, w), 0.5),
                      mask=torch.zeros(b, 1, h, w))


def rcm_inputs(rank: int, step: int):
    img, label = _source(rank, step, part=1)
    pseudo = torch.randint(0, 19, (2, 32, 32),
                           generator=_generator(rank, step, 2))
    return img, label, pseudo


def bank_inputs(rank: int, step: int):
    img, label = _source(rank, step, part=3, batch=1)
    return img, label, label[:, 0].clone()


def similarity_inputs(rank: int, step: int):
    g = _generator(rank, step, 4)
    dist = torch.randint(0, 4, (2, 19), generator=g) / 4  # exact sums
    present = torch.rand(2, 19, generator=g) < 0.5
    return dist, present


def fpa_inputs(rank: int, step: int):
    img, label = _source(rank, step, part=5, size=16)
    pseudo = torch.randint(0, 19, (2, 16, 16),
                           generator=_generator(rank, step, 6))
    return img, label, pseudo


# ------------------------------------------------------------ the updates
def run_rcm(inputs: List[tuple], **kwargs) -> Dict:
    rcm = RareClassMemory(min_area=4, capacity=4, prob=1.0, **kwargs)
    for step, (img, label, pseudo) in enumerate(inputs):
        rcm.augment(_ctx(step, img, label, pseudo), _mixed(img, label))
    return dict(hist=rcm.pseudo_hist, queues=rcm.get_extra_state())


def run_bank(inputs: List[tuple]) -> Dict:
    bank = LongTailMemoryBank(classes=RCM_CLASSES)
    pasted = None
    for step, (img, label, pseudo) in enumerate(inputs, start=3):
        pasted = bank.augment(_ctx(step, img, label, pseudo),
                              _mixed(img, label))
    return dict(images=bank.images, masks=bank.masks, labels=bank.labels,
                pasted_img=pasted.img, pasted_label=pasted.label)


def run_similarity(inputs: List[tuple]) -> Dict:
    sim = ClassSimilarity(lpips=nn.Identity(), ema=0.5)
    out = [sim._ema_distances(dist, present) for dist, present in inputs]
    return dict(similarity=sim.similarity, seen=sim.seen,
                distances=[d[0] for d in out])


def run_fpa(inputs: List[tuple], num_samples: int = 2) -> Dict:
    fpa = FeaturePrototypeAlignment(start_iter=0, num_samples=num_samples,
                                    feature_fn=_image_as_feature,
                                    ema_prototypes=True, ema_momentum=0.9,
                                    feat_channels=3)
    for step, (img, label, pseudo) in enumerate(inputs):
        ctx = _ctx(step, img, label, pseudo)
        ctx.target = dict(img=img.flip(-2))
        ctx.mixed = _mixed(img, label)
        fpa.losses(ctx)
    return dict(memory=fpa.proto_memory, seen=fpa.proto_seen)


def _image_as_feature(student: nn.Module, img: torch.Tensor) -> torch.Tensor:
    return img


def _bn_with_rank_statistics(rank: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(3)
    bn.running_mean.fill_(float(rank + 1))
    bn.running_var.fill_(0.25 * (rank + 1))
    bn.num_batches_tracked.fill_(7)
    return bn


def parts_worker(rank: int, world_size: int = 2) -> Dict:
    """Every part's state after ``STEPS`` steps on this rank's data."""
    torch.manual_seed(rank)  # paste draws are rank-local
    out = dict(
        rcm={name: run_rcm([rcm_inputs(rank, s) for s in range(STEPS)], **kw)
             for name, kw in RCM_VARIANTS.items()},
        bank=run_bank([bank_inputs(rank, s) for s in range(STEPS)]),
        similarity=run_similarity(
            [similarity_inputs(rank, s) for s in range(STEPS)]),
        fpa=run_fpa([fpa_inputs(rank, s) for s in range(STEPS)]))
    bn = _bn_with_rank_statistics(rank)
    udist.mean_buffers_(bn)
    out['bn'] = dict(bn.state_dict())
    rows = torch.full((rank + 1, 2), float(rank))
    out['gather'] = dict(
        cat=udist.all_gather_cat(rows),
        bools=udist.all_gather_cat(torch.tensor([rank == 0, True])),
        sum=udist.all_reduce_sum(torch.tensor([rank, 10 * rank])),
        mean_of_equal=udist.all_reduce_mean(torch.tensor([0.1, 1 / 3])),
        mean=udist.all_reduce_mean(torch.tensor([float(rank)])),
        objects=udist.all_gather_objects(dict(rank=rank)),
        rank=udist.rank(), world=udist.world_size())
    return out


def _both_ranks(make, steps: int = STEPS):
    """One process's view: rank 0's batch then rank 1's, concatenated."""
    return [
        tuple(torch.cat(parts) for parts in zip(
            *[make(r, s) for r in range(WORLD)])) for s in range(steps)
    ]


@pytest.fixture(scope='module')
def ranks():
    return run_on_ranks(parts_worker, WORLD)


# ----------------------------------------------------------------- tests
def test_collectives_gather_and_reduce_in_rank_order(ranks):
    assert_same(ranks[0]['gather'] | dict(rank=1), ranks[1]['gather'])
    got = ranks[0]['gather']
    assert got['world'] == 2 and got['rank'] == 0
    assert got['cat'].tolist() == [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    assert got['bools'].tolist() == [True, True, False, True]
    assert got['sum'].tolist() == [1, 10]
    assert torch.equal(got['mean_of_equal'], torch.tensor([0.1, 1 / 3]))
    assert got['mean'].tolist() == [0.5]
    assert got['objects'] == [dict(rank=0), dict(rank=1)]


def test_collectives_return_the_input_in_one_process():
    t = torch.randn(3, 2)
    assert udist.all_gather_cat(t) is t
    assert udist.all_gather_list(t)[0] is t
    assert udist.all_reduce_sum(t) is t and udist.all_reduce_mean(t) is t
    assert udist.all_gather_objects('x') == ['x']
    bn = _bn_with_rank_statistics(1)
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    udist.mean_buffers_(bn)
    assert_same(before, dict(bn.state_dict()))


def test_network_buffers_become_the_rank_mean(ranks):
    assert_same(ranks[0]['bn'], ranks[1]['bn'])
    bn = ranks[0]['bn']
    assert torch.equal(bn['running_mean'], torch.full((3, ), 1.5))
    assert torch.equal(bn['running_var'], torch.full((3, ), 0.375))
    assert int(bn['num_batches_tracked']) == 7


@pytest.mark.parametrize('variant', sorted(RCM_VARIANTS))
def test_rcm_queues_and_histogram_hold_every_ranks_objects(ranks, variant):
    assert_same(ranks[0]['rcm'][variant], ranks[1]['rcm'][variant])
    torch.manual_seed(0)
    one_process = run_rcm(_both_ranks(rcm_inputs), **RCM_VARIANTS[variant])
    assert_same(one_process, ranks[0]['rcm'][variant])
    origins = sum((q['origins'] for q in one_process['queues']['queues']
                   .values()), [])
    assert len(origins) > 4  # objects from both ranks reached the queues


def test_longtail_bank_holds_the_global_batch_and_pastes_own_rows(ranks):
    for key in ('images', 'masks', 'labels'):
        assert_same(ranks[0]['bank'][key], ranks[1]['bank'][key], key)
    one_process = run_bank(_both_ranks(bank_inputs))
    for key in ('images', 'masks', 'labels'):
        assert_same(one_process[key], ranks[0]['bank'][key], key)
    assert one_process['masks'][0].shape[0] == WORLD
    for r in range(WORLD):  # iteration 5 pastes: rank r gets rows r
        for key in ('pasted_img', 'pasted_label'):
            assert torch.equal(ranks[r]['bank'][key],
                               one_process[key][r:r + 1]), (r, key)
    assert not torch.equal(ranks[0]['bank']['pasted_label'],
                           ranks[1]['bank']['pasted_label'])


def test_class_similarity_ema_uses_the_global_batch(ranks):
    assert_same(ranks[0]['similarity'], ranks[1]['similarity'])
    one_process = run_similarity(_both_ranks(similarity_inputs))
    assert_same(one_process, ranks[0]['similarity'])


def test_fpa_prototype_memory_replays_every_ranks_samples(ranks):
    assert_same(ranks[0]['fpa'], ranks[1]['fpa'])
    one_process = run_fpa(_both_ranks(fpa_inputs), num_samples=2 * WORLD)
    assert_same(one_process, ranks[0]['fpa'])
    assert ranks[0]['fpa']['seen'].all(1).any()


# ------------------------------------------------- whole UDA steps, 2 ranks
def _eglp_cfg() -> dict:
    return dict(
        type='EGLP', model=tiny_model_cfg(hrda=True), max_iters=10,
        alpha=0.9, pseudo_threshold=0.5,
        dms=dict(type='DMS', mode='soft', k=2, ramp_iters=0, mask_prob=0.0,
                 similarity=dict(metric='lpips', ema=0.9, lpips=dict(
                     type='LPIPS', pretrained=False))),
        mix_augmenters=[dict(type='RCM', min_area=4, prob=1.0)])


def _dsrnss_cfg() -> dict:
    return dict(
        type='DACS', model=tiny_model_cfg(), max_iters=10, alpha=0.9,
        pseudo_threshold=0.5,
        mix_augmenters=[dict(type='LongTailMemoryBank', paste_interval=1,
                             classes=RCM_CLASSES)],
        extra_losses=[dict(type='FPA', start_iter=0, ema_prototypes=True,
                           feat_channels=256)])


def _step_batch(rank: int, step: int) -> Dict:
    def sample(part: int, labelled: bool = True) -> Dict:
        img, label = _source(rank, step, part, size=64)
        label[:, :, :4] = 255
        out = dict(img=img,
                   img_metas=[dict(img_shape=(64, 64, 3),
                                   ori_shape=(64, 64, 3),
                                   pad_shape=(64, 64, 3), scale_factor=1.0,
                                   flip=False, flip_direction=None,
                                   img_norm_cfg=NORM, filename='x.png',
                                   ori_filename='x.png')] * 2)
        if labelled:
            out['gt_semantic_seg'] = label
        return out

    return dict(source=sample(7), target=sample(8, False), prompt=sample(9))


def uda_worker(rank: int, world_size: int = 2) -> Dict:
    from mmseg.engine.distributed import UDADataParallel
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    out = {}
    for name, cfg in (('eglp', _eglp_cfg()), ('dsrnss', _dsrnss_cfg())):
        torch.manual_seed(0)  # the same initial networks on every rank
        model = MODELS.build(cfg)
        model.init_weights()
        wrapper = optim_wrapper_for(model)
        data_parallel = UDADataParallel(model)  # gradient mean, one step
        torch.manual_seed(1 + rank)  # rank-local mixing/augmentation draws
        logs = [data_parallel.train_step(_step_batch(rank, step), wrapper)
                for step in range(2)]
        out[name] = dict(state=dict(model.state_dict()),
                         logs=[{k: float(v.detach()) for k, v in log.items()}
                               for log in logs])
    return out


@pytest.mark.slow
def test_uda_steps_leave_every_network_and_bank_identical():
    """EGLP (HRDA, RCM, DMS with EMA similarity) and DACS with the DSRNSS
    bank and FPA memory: after 2 steps of the data-parallel wrapper on
    different data per rank, the students, teachers, NFNets, running
    statistics and banks are bitwise the same on both ranks."""
    ranks = run_on_ranks(uda_worker, WORLD)
    for name in ('eglp', 'dsrnss'):
        assert ranks[0][name]['logs'] != ranks[1][name]['logs']  # own data
        assert_same(ranks[0][name]['state'], ranks[1][name]['state'], name)
    state = ranks[0]['eglp']['state']
    assert state['dms.similarity.seen'].any()
    assert sum(len(q['imgs']) for q in
               state['mix_augmenters.0._extra_state']['queues'].values())
    assert ranks[0]['dsrnss']['state']['extra_losses.0.proto_seen'].any()
