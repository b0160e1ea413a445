"""Grouped ClassMix (DSRNSS dynamic mix): co-occurrence rules and mixing."""
import pytest
import torch

from mmseg.models.uda.parts.context import PseudoLabels
from mmseg.models.uda.parts.dsrnss.grouped_classmix import (
    GroupedClassMix, add_cooccurring_classes)
from mmseg.registry import MODELS


@pytest.mark.parametrize('chosen,present,expected', [
    ([6], [0, 5, 6, 7], [5, 6, 7]),     # light -> pole -> sign
    ([7], [0, 5, 7], [5, 7]),           # sign -> pole
    ([6], [0, 6, 7], [6]),              # no pole present: nothing added
    ([5], [5, 6], [5, 6]),              # pole -> light (sign absent)
    ([12], [12, 17, 18], [12, 17, 18]),  # rider -> motorcycle, bicycle
    ([12], [12, 18], [12, 18]),
    ([17, 18], [12, 17, 18], [17, 18]),  # two-wheelers do not bring rider
    ([0, 1], [0, 1, 5, 6, 12, 17], [0, 1]),
])
def test_cooccurrence_rules(chosen, present, expected):
    assert add_cooccurring_classes(chosen, present) == expected


def _hand_label():
    # 4x6 map: road(0), pole(5), light(6), sign(7), rider(12), bike(18)
    return torch.tensor([[0, 0, 5, 6, 12, 18],
                         [0, 0, 5, 7, 12, 18],
                         [0, 0, 5, 0, 0, 0],
                         [0, 0, 0, 0, 0, 255]]).view(1, 1, 4, 6)


def test_masks_keep_groups_on_hand_label():
    mixer = GroupedClassMix()
    label = _hand_label()
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        mask = mixer.class_masks(label, g)[0, 0].bool()
        chosen = set(label[0, 0][mask].tolist())
        n = len(torch.unique(label))
        assert len(chosen) >= (n + 1) // 2
        if chosen & {5, 6, 7}:
            assert {5, 6, 7} <= chosen  # pole present, so the group is whole
        if 12 in chosen:
            assert 18 in chosen


def test_candidates_sample_vs_batch():
    labels = torch.zeros(2, 1, 2, 2, dtype=torch.long)
    labels[1] = 3  # sample 1 has only class 3
    g = torch.Generator().manual_seed(0)
    sample = GroupedClassMix(classes_from='sample').class_masks(labels, g)
    assert sample.sum() == 8  # one class per sample, always taken whole
    ok = set()
    for seed in range(30):
        g = torch.Generator().manual_seed(seed)
        batch = GroupedClassMix(classes_from='batch').class_masks(labels, g)
        ok.add(int(batch[1].sum()))
    assert ok == {0, 4}  # batch candidates {0, 3}: sample 1 may get none


def test_ignore_can_be_excluded():
    label = torch.full((1, 1, 2, 2), 255, dtype=torch.long)
    label[0, 0, 0, 0] = 1
    mix = GroupedClassMix(include_ignore=False)
    mask = mix.class_masks(label, torch.Generator().manual_seed(0))
    assert mask.sum() == 1 and mask[0, 0, 0, 0] == 1


def test_mix_image_label_weight_and_registry():
    mixer = MODELS.build(dict(type='GroupedClassMix', mix_loss_weight=0.8))
    assert mixer.mix_loss_weight == 0.8
    assert GroupedClassMix().mix_loss_weight == 1.0
    src_label = _hand_label()
    src_img = torch.ones(1, 3, 4, 6)
    tgt_img = torch.zeros(1, 3, 4, 6)
    pseudo = PseudoLabels(label=torch.full((1, 4, 6), 9),
                          weight=torch.full((1, 4, 6), 0.5))
    out = mixer.mix(src_img, src_label, tgt_img, pseudo,
                    torch.Generator().manual_seed(1))
    m = out.mask.bool()
    assert torch.equal(out.img, m.expand(1, 3, 4, 6).float())
    assert torch.equal(out.label[m], src_label[m])
    assert (out.label[~m] == 9).all()
    assert (out.weight[m[:, 0]] == 1).all() and \
        (out.weight[~m[:, 0]] == 0.5).all()


def test_groups_are_rules_of_the_class_set():
    """Own rules replace DSRNSS's Cityscapes ones, applied in order; the
    default reproduces DSRNSS."""
    from mmseg.models.uda.parts.dsrnss.grouped_classmix import DSRNSS_GROUPS
    rules = [dict(when=[1], add=[2]), dict(when=[2], add=[3])]
    assert add_cooccurring_classes([1], [1, 2, 3, 4], rules) == [1, 2, 3]
    assert add_cooccurring_classes([2], [1, 2, 4], rules) == [2]
    assert add_cooccurring_classes([5], [5, 6, 7], DSRNSS_GROUPS) == [5, 6, 7]
    assert add_cooccurring_classes([5], [5, 6, 7], []) == [5]
    labels = torch.tensor([[[0, 1], [2, 3]]])
    mixer = GroupedClassMix(groups=[dict(when=[0, 1, 2, 3], add=[0, 1, 2, 3])])
    # whichever half is chosen, the rule brings every present class
    assert mixer.class_masks(labels).sum() == 4
    with pytest.raises(ValueError, match='must be train ids'):
        GroupedClassMix(groups=[dict(when=['rider'], add=[1])])
    with pytest.raises(ValueError, match=r'groups\[0\] must be dict'):
        GroupedClassMix(groups=[dict(when=[1])])
