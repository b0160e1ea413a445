"""DSRNSS long-tailed memory bank: FIFO, schedule, labels, stage, state."""
import io

import torch

from mmseg.models.uda.parts.context import MixedBatch, UDAStepContext
from mmseg.models.uda.parts.dsrnss.longtail_memory import LongTailMemoryBank
from mmseg.registry import MODELS


def _source(value: float, rare_at: int, rare_class: int = 12):
    """Batch of 1: label 0 everywhere, one rare pixel at column rare_at."""
    label = torch.zeros(1, 1, 2, 4, dtype=torch.long)
    label[0, 0, 0, rare_at] = rare_class
    return {'img': torch.full((1, 3, 2, 4), value),
            'gt_semantic_seg': label}


def _mixed(batch=1, h=2, w=4):
    return MixedBatch(img=torch.zeros(batch, 3, h, w),
                      label=torch.full((batch, 1, h, w), 1),
                      weight=torch.full((batch, h, w), 0.5),
                      mask=torch.zeros(batch, 1, h, w))


def _step(bank, iteration, source, mixed=None):
    ctx = UDAStepContext(iteration=iteration, source=source, target={},
                         student=None)
    return bank.augment(ctx, mixed if mixed is not None else _mixed())


def test_fifo_keeps_three_batches_current_included():
    bank = LongTailMemoryBank()
    for it in range(1, 6):
        _step(bank, it, _source(float(it), rare_at=it % 4))
        assert len(bank) == min(it, 3)
    assert [img.max().item() for img in bank.images] == [3.0, 4.0, 5.0]


def test_paste_every_fifth_iteration_with_bank_labels_and_pixels():
    bank = LongTailMemoryBank()
    pasted, out = [], None
    for it in range(1, 11):
        out = _step(bank, it, _source(float(it), rare_at=it % 4,
                                      rare_class=14 if it == 10 else 12))
        pasted.append(bool((out.label != 1).any()))
    assert pasted == [i % 5 == 0 for i in range(1, 11)]
    # iteration 10 pastes the batches of iterations 8, 9, 10 (columns 0-2);
    # iteration 7 (column 3) has left the FIFO
    assert out.label[0, 0, 0].tolist() == [12, 12, 14, 1]
    assert out.img[0, 0, 0].tolist() == [8.0, 9.0, 10.0, 0.0]
    assert out.label[0, 0, 1].eq(1).all() and out.img[0, :, 1].eq(0).all()
    assert out.weight.eq(0.5).all()  # reference: weight is not reset


def test_only_rare_classes_are_stored():
    bank = LongTailMemoryBank()
    src = _source(2.0, rare_at=0, rare_class=13)  # car is not in the bank
    out = _step(bank, 0, src)
    assert bank.masks[0].sum() == 0 and out.label.eq(1).all()


def test_stage_switch_and_weight_reset():
    assert LongTailMemoryBank().stage == 'after_strong_aug'
    bank = MODELS.build(dict(type='LongTailMemoryBank', paste_after_aug=False,
                             reset_weight=True))
    assert bank.stage == 'before_strong_aug'
    out = _step(bank, 5, _source(1.0, rare_at=2))
    assert out.weight[0, 0, 2] == 1 and out.weight.sum() == 1 + 0.5 * 7


def test_size_mismatch_is_skipped_not_raised():
    bank = LongTailMemoryBank()
    _step(bank, 1, _source(1.0, rare_at=1))
    out = _step(bank, 5, _source(1.0, rare_at=1), mixed=_mixed(batch=2))
    assert out.label.eq(1).all()  # nothing fits a batch of 2


def test_state_round_trip_weights_only():
    bank = LongTailMemoryBank()
    for it in range(1, 5):
        _step(bank, it, _source(float(it), rare_at=it % 4))
    buffer = io.BytesIO()
    torch.save(bank.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    restored = LongTailMemoryBank()
    restored.load_state_dict(state)
    assert len(restored) == 3
    for a, b in zip(bank.images + bank.labels + bank.masks,
                    restored.images + restored.labels + restored.masks):
        assert torch.equal(a, b.to(a.dtype))
    empty = LongTailMemoryBank()
    empty.load_state_dict(LongTailMemoryBank().state_dict())
    assert len(empty) == 0
