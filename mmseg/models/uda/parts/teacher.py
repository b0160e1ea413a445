"""Mean teacher: an exponential moving average (EMA) of the student."""
import copy
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence

import torch
from mmcv.cnn.bricks import DropPath
from torch import nn
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.parallel import DistributedDataParallel

BN_MODES = ('train', 'eval')


def is_stochastic_layer(module: nn.Module) -> bool:
    """Whether ``module`` is a Dropout variant or a DropPath layer."""
    return isinstance(module, (_DropoutNd, DropPath)) or \
        type(module).__name__ == 'DropPath'


class EMATeacher(nn.Module):
    """EMA teacher ``phi <- a_t * phi + (1 - a_t) * theta`` of a student.

    ``self.model`` is a deep copy of the student whose parameters never
    require grad, so they stay out of any optimiser built from the
    trainable parameters. The averaging weight ramps up from 0::

        a_t = min(1 - 1 / (t + 1), alpha)

    so iteration 0 copies the student (a DDP-wrapped student is unwrapped
    first). Buffers (BatchNorm running statistics) are the teacher's own by
    default (the reference); with ``average_buffers`` floating buffers are
    averaged with the same weight and the others (``num_batches_tracked``)
    copied.

    Inference (``predict_logits``) runs without gradient, with Dropout and
    DropPath switched off and BatchNorm per ``bn_mode``: ``'train'`` (the
    reference: batch statistics, running statistics updated) or ``'eval'``.

    Call graph: ``update() -> _copy_from() | _average_from()``;
    ``predict_logits() -> inference_mode() -> set_inference_mode() ->
    model.encode_decode()``.
    """

    def __init__(self,
                 student: nn.Module,
                 alpha: float = 0.999,
                 average_buffers: bool = False,
                 bn_mode: str = 'train') -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'teacher.py: alpha must be in [0, 1], '
                             f'got {alpha}')
        if bn_mode not in BN_MODES:
            raise ValueError(f'teacher.py: bn_mode must be one of '
                             f'{BN_MODES}, got {bn_mode!r}')
        self.alpha = alpha
        self.average_buffers = average_buffers
        self.bn_mode = bn_mode
        self.model = copy.deepcopy(student)
        for param in self.model.parameters():
            param.detach_()
            param.requires_grad_(False)

    def alpha_at(self, iteration: int) -> float:
        """The averaging weight used at ``iteration`` (0 at iteration 0)."""
        return min(1.0 - 1.0 / (iteration + 1), self.alpha)

    @torch.no_grad()
    def update(self, student: nn.Module, iteration: int) -> None:
        """Copy (iteration 0) or average the student's weights in."""
        if iteration < 0:
            raise ValueError(f'teacher.py: iteration must be >= 0, '
                             f'got {iteration}')
        if isinstance(student, DistributedDataParallel):
            student = student.module
        if iteration == 0:
            self._copy_from(student)
        else:
            self._average_from(student, self.alpha_at(iteration))

    def _copy_from(self, student: nn.Module) -> None:
        for mine, theirs in self._pairs(self.model.named_parameters(),
                                        student.named_parameters()):
            mine.copy_(theirs)
        if self.average_buffers:
            for mine, theirs in self._pairs(self.model.named_buffers(),
                                            student.named_buffers()):
                mine.copy_(theirs)

    def _average_from(self, student: nn.Module, alpha_t: float) -> None:
        pairs = self._pairs(self.model.named_parameters(),
                            student.named_parameters())
        self._ema([p for p, _ in pairs], [s for _, s in pairs], alpha_t)
        if not self.average_buffers:
            return
        float_mine, float_theirs = [], []
        for mine, theirs in self._pairs(self.model.named_buffers(),
                                        student.named_buffers()):
            if mine.is_floating_point():
                float_mine.append(mine)
                float_theirs.append(theirs)
            else:
                mine.copy_(theirs)
        self._ema(float_mine, float_theirs, alpha_t)

    @staticmethod
    def _ema(mine: List[torch.Tensor], theirs: List[torch.Tensor],
             alpha_t: float) -> None:
        if not mine:
            return
        torch._foreach_mul_(mine, alpha_t)
        torch._foreach_add_(mine, [t.detach() for t in theirs],
                            alpha=1.0 - alpha_t)

    @staticmethod
    def _pairs(mine: Iterator, theirs: Iterator) -> List[Sequence]:
        mine, theirs = list(mine), list(theirs)
        names_mine = [name for name, _ in mine]
        names_theirs = [name for name, _ in theirs]
        if names_mine != names_theirs:
            missing = set(names_mine) ^ set(names_theirs)
            raise ValueError(
                'teacher.py: teacher and student tensors differ '
                f'({len(mine)} vs {len(theirs)}; e.g. {sorted(missing)[:3]})')
        return [(a, b) for (_, a), (_, b) in zip(mine, theirs)]

    def set_inference_mode(self) -> None:
        """Put the teacher in its pseudo-labelling mode (see class doc)."""
        self.model.train(self.bn_mode == 'train')
        for module in self.model.modules():
            if is_stochastic_layer(module):
                module.training = False

    @contextmanager
    def inference_mode(self) -> Iterator[None]:
        """Inference mode inside the block; previous modes restored after."""
        saved: Dict[nn.Module, bool] = {
            m: m.training
            for m in self.model.modules()
        }
        self.set_inference_mode()
        try:
            yield
        finally:
            for module, training in saved.items():
                module.training = training

    @torch.no_grad()
    def predict_logits(self, img: torch.Tensor,
                       img_metas: List[dict]) -> torch.Tensor:
        """Teacher logits ``[B, C, H, W]`` at the input size, fp32 (also
        when the forward ran under mixed-precision autocast)."""
        with self.inference_mode():
            return self.model.encode_decode(img, img_metas).float()

    def forward(self, img: torch.Tensor,
                img_metas: List[dict]) -> torch.Tensor:
        return self.predict_logits(img, img_metas)
