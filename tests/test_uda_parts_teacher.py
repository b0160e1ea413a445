import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch import nn

from mmseg.models.uda.parts.teacher import EMATeacher


class TinySegmentor(nn.Module):
    """Stand-in segmentor: conv - BN - dropout - drop path - conv."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.dropout = nn.Dropout2d(0.5)
        self.drop_path = DropPath(0.5)
        self.conv2 = nn.Conv2d(4, num_classes, 1)

    def extract_feat(self, img):
        return [F.relu(self.bn(self.conv1(img)))]

    def encode_decode(self, img, img_metas):
        feat = self.extract_feat(img)[-1]
        return self.conv2(self.drop_path(self.dropout(feat)))


def _fill(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)


def _modes(module: nn.Module):
    return [m.training for m in module.modules()]


def test_copy_is_frozen_and_separate():
    student = TinySegmentor()
    teacher = EMATeacher(student)
    for (name, p), (_, q) in zip(teacher.model.named_parameters(),
                                 student.named_parameters()):
        assert not p.requires_grad, name
        assert q.requires_grad
        assert p.data_ptr() != q.data_ptr()
        assert torch.equal(p, q)
    assert not any(p.requires_grad for p in teacher.parameters())


@pytest.mark.parametrize('t, expected', [(0, 0.0), (1, 0.5), (2, 2 / 3),
                                         (3, 0.75), (999, 0.999),
                                         (10**6, 0.999)])
def test_alpha_ramp(t, expected):
    teacher = EMATeacher(TinySegmentor(), alpha=0.999)
    assert teacher.alpha_at(t) == pytest.approx(expected, abs=1e-12)


def test_update_formula_hand_values():
    student = TinySegmentor()
    teacher = EMATeacher(student, alpha=0.9)
    _fill(teacher.model, 5.0)
    _fill(student, 1.0)
    teacher.update(student, 0)  # copy
    assert all(torch.all(p == 1.0) for p in teacher.model.parameters())
    _fill(student, 3.0)
    teacher.update(student, 1)  # a=0.5: 0.5*1 + 0.5*3 = 2
    assert all(
        torch.allclose(p, torch.full_like(p, 2.0))
        for p in teacher.model.parameters())
    _fill(student, 5.0)
    teacher.update(student, 2)  # a=2/3: 2/3*2 + 1/3*5 = 3
    assert all(
        torch.allclose(p, torch.full_like(p, 3.0))
        for p in teacher.model.parameters())
    _fill(student, 13.0)
    teacher.update(student, 500)  # a capped at 0.9: 0.9*3 + 0.1*13 = 4
    assert all(
        torch.allclose(p, torch.full_like(p, 4.0))
        for p in teacher.model.parameters())


def test_update_keeps_no_grad_and_param_identity():
    student = TinySegmentor()
    teacher = EMATeacher(student)
    ptrs = [p.data_ptr() for p in teacher.model.parameters()]
    loss = student.encode_decode(torch.randn(2, 3, 8, 8), None).sum()
    loss.backward()
    teacher.update(student, 3)
    assert [p.data_ptr() for p in teacher.model.parameters()] == ptrs
    assert all(p.grad is None and not p.requires_grad
               for p in teacher.model.parameters())


def test_buffers_are_teachers_own_by_default():
    student = TinySegmentor()
    teacher = EMATeacher(student)
    student.bn.running_mean.fill_(7.0)
    student.bn.num_batches_tracked.fill_(9)
    teacher.update(student, 0)
    teacher.update(student, 5)
    assert torch.all(teacher.model.bn.running_mean == 0.0)
    assert teacher.model.bn.num_batches_tracked.item() == 0


def test_buffers_averaged_when_asked():
    student = TinySegmentor()
    teacher = EMATeacher(student, alpha=0.99, average_buffers=True)
    student.bn.running_mean.fill_(4.0)
    teacher.update(student, 0)  # copied
    assert torch.all(teacher.model.bn.running_mean == 4.0)
    student.bn.running_mean.fill_(8.0)
    student.bn.num_batches_tracked.fill_(9)
    teacher.update(student, 1)  # 0.5*4 + 0.5*8
    assert torch.allclose(teacher.model.bn.running_mean, torch.full((4, ),
                                                                    6.0))
    assert teacher.model.bn.num_batches_tracked.item() == 9


def test_mismatched_student_rejected():
    teacher = EMATeacher(TinySegmentor())
    with pytest.raises(ValueError, match='teacher.py'):
        teacher.update(TinySegmentor(num_classes=2).conv1, 1)


def test_bad_arguments_rejected():
    with pytest.raises(ValueError, match='bn_mode'):
        EMATeacher(TinySegmentor(), bn_mode='frozen')
    with pytest.raises(ValueError, match='alpha'):
        EMATeacher(TinySegmentor(), alpha=1.5)


def test_set_inference_mode_train_bn():
    teacher = EMATeacher(TinySegmentor(), bn_mode='train')
    teacher.train()
    teacher.set_inference_mode()
    assert teacher.model.training and teacher.model.bn.training
    assert not teacher.model.dropout.training
    assert not teacher.model.drop_path.training


def test_set_inference_mode_eval_bn():
    teacher = EMATeacher(TinySegmentor(), bn_mode='eval')
    teacher.train()
    teacher.set_inference_mode()
    assert not any(m.training for m in teacher.model.modules())


def test_predict_train_bn_uses_batch_stats_and_updates_running():
    student = TinySegmentor()
    teacher = EMATeacher(student, bn_mode='train')
    teacher.train()
    img = torch.randn(2, 3, 8, 8) * 3 + 1
    out1 = teacher.predict_logits(img, None)
    assert not torch.all(teacher.model.bn.running_mean == 0)
    out2 = teacher.predict_logits(img, None)
    # Dropout/DropPath off: deterministic; batch statistics: independent of
    # the running statistics that changed between the calls.
    assert torch.allclose(out1, out2, atol=1e-6)
    model = teacher.model
    feat = F.relu(
        F.batch_norm(model.conv1(img),
                     None,
                     None,
                     model.bn.weight,
                     model.bn.bias,
                     training=True))
    assert torch.allclose(out1, model.conv2(feat), atol=1e-5)
    assert not out1.requires_grad


def test_predict_eval_bn_uses_running_stats():
    teacher = EMATeacher(TinySegmentor(), bn_mode='eval')
    teacher.train()
    teacher.model.bn.running_mean.fill_(0.5)
    img = torch.randn(2, 3, 8, 8)
    out = teacher.predict_logits(img, None)
    assert torch.all(teacher.model.bn.running_mean == 0.5)
    model = teacher.model
    feat = F.relu(
        F.batch_norm(model.conv1(img),
                     model.bn.running_mean,
                     model.bn.running_var,
                     model.bn.weight,
                     model.bn.bias,
                     training=False))
    assert torch.allclose(out, model.conv2(feat), atol=1e-5)


@pytest.mark.parametrize('bn_mode', ['train', 'eval'])
@pytest.mark.parametrize('teacher_training', [True, False])
def test_modes_restored_and_student_untouched(bn_mode, teacher_training):
    student = TinySegmentor()
    teacher = EMATeacher(student, bn_mode=bn_mode)
    student.train()
    student.bn.eval()  # an unusual mix that must survive
    teacher.train(teacher_training)
    student_modes, teacher_modes = _modes(student), _modes(teacher)
    teacher.predict_logits(torch.randn(2, 3, 8, 8), None)
    assert _modes(student) == student_modes
    assert _modes(teacher) == teacher_modes


def test_predict_gives_student_no_gradient():
    student = TinySegmentor()
    teacher = EMATeacher(student)
    img = torch.randn(2, 3, 8, 8, requires_grad=True)
    logits = teacher.predict_logits(img, None)
    assert logits.grad_fn is None
    assert all(p.grad is None for p in student.parameters())


def test_ddp_wrapped_student_is_unwrapped(tmp_path):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    dist.init_process_group('gloo',
                            init_method=f'file://{tmp_path}/pg',
                            rank=0,
                            world_size=1)
    try:
        student = TinySegmentor()
        teacher = EMATeacher(student)
        _fill(student, 2.0)
        teacher.update(DistributedDataParallel(student), 0)
        assert all(torch.all(p == 2.0) for p in teacher.model.parameters())
    finally:
        dist.destroy_process_group()
