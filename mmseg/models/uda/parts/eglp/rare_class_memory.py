"""RCM: EGLP's rare class memory (proposed design, methods.md §1.4).

Per class of ``classes`` a FIFO queue (``capacity`` entries) of object
instances: 8-connected components of the source GT (and, with
``use_prompt``, of the prompt GT) with area >= ``min_area`` pixels at
training resolution. Each step, with probability ``prob``:

- for every mixed image, ``N ~ U{1..max_objects}`` objects are drawn: class
  ``c ~ softmax((1 - f_c) / T)`` over the classes with a non-empty queue, with
  ``f_c`` the class frequency in the teacher's target pseudo-labels (a running
  histogram: cumulative counts, or an EMA of per-step frequencies with
  ``freq_momentum``), then an entry uniformly from the queue;
- the object is scaled by ``U(scale_jitter)`` (times the canvas height ratio),
  keeps its vertical centre (perspective), gets a uniform horizontal
  position, and is pasted: image pixels, label ``c``, pseudo-weight 1 and
  mix mask 1 on its mask;
- ``night_style`` re-colours it with the target image's per-channel mean/std
  in de-normalised RGB (see :func:`night_recolour`).

Afterwards this step's source (and prompt) objects are enqueued, so pastes
come from earlier steps.

Across ranks (``mmseg.utils.dist``): the objects every rank cuts out this
step are gathered and enqueued by every rank in rank order (as one process
would enqueue the concatenated batch), and the histogram is updated with the
pseudo-label counts summed over the ranks, so queues and histogram are the
same on every rank. The paste draws (which objects, where) use the rank's
own random stream: they only change that rank's batch. Runs before the strong augmentation, so pasted
objects are jittered with the rest. Queues and histogram are checkpointed
(``get_extra_state`` holds tensors, lists, strings and ints only).
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from mmseg.models.uda.parts.context import (MixAugmenter, MixedBatch,
                                            UDAStepContext)
from mmseg.models.uda.parts.eglp.fis import sample_norm_cfg
from mmseg.models.uda.parts.eglp.object_paste import (ORIGINS, ObjectCrop,
                                                      extract_objects,
                                                      night_recolour,
                                                      paste_region,
                                                      resize_object)
from mmseg.registry import MODELS
from mmseg.utils.dist import all_gather_objects, all_reduce_sum

RCM_CLASSES = (5, 6, 7, 11, 12, 14, 15, 16, 17, 18)
STATE_VERSION = 1


def _gen_device(generator: Optional[torch.Generator]) -> torch.device:
    return generator.device if generator is not None else torch.device('cpu')


def _uniform(generator: Optional[torch.Generator],
             low: float = 0.0,
             high: float = 1.0) -> float:
    u = torch.rand(1, generator=generator, device=_gen_device(generator))
    return low + (high - low) * float(u)


def _randint(generator: Optional[torch.Generator], high: int) -> int:
    """Uniform integer in ``[0, high)``."""
    return int(
        torch.randint(high, (1, ),
                      generator=generator,
                      device=_gen_device(generator)))


@MODELS.register_module(name='RCM')
class RareClassMemory(MixAugmenter):
    """Per-class object memory pasted into the mixed batch (see module doc).

    Call graph: ``augment() -> update_frequency() -> paste() ->
    sample_class() / _paste_object() -> enqueue()``.
    """

    stage = 'before_strong_aug'

    def __init__(self,
                 classes: Sequence[int] = RCM_CLASSES,
                 num_classes: int = 19,
                 capacity: int = 32,
                 min_area: int = 256,
                 temperature: float = 0.01,
                 max_objects: int = 3,
                 scale_jitter: Tuple[float, float] = (0.8, 1.2),
                 prob: float = 0.5,
                 night_style: bool = False,
                 use_prompt: bool = False,
                 freq_momentum: Optional[float] = None) -> None:
        super().__init__()
        if capacity < 1 or max_objects < 1 or temperature <= 0:
            raise ValueError('rare_class_memory.py: capacity, max_objects and '
                             'temperature must be positive')
        self.classes = tuple(int(c) for c in classes)
        self.num_classes = num_classes
        self.capacity, self.min_area = capacity, min_area
        self.temperature, self.max_objects = temperature, max_objects
        self.scale_jitter, self.prob = tuple(scale_jitter), prob
        self.night_style, self.use_prompt = night_style, use_prompt
        self.freq_momentum = freq_momentum
        self.register_buffer('pseudo_hist',
                             torch.zeros(num_classes, dtype=torch.float64))
        self.queues: Dict[int, List[ObjectCrop]] = {
            c: []
            for c in self.classes
        }

    # memory ---------------------------------------------------------------
    def enqueue(self,
                img: torch.Tensor,
                label: torch.Tensor,
                origin: str = 'source') -> int:
        """Store the objects of a batch (``[B,3,H,W]``, ``[B,(1,)H,W]``) and
        those the other ranks pass this call, in rank order; returns how
        many were stored."""
        if origin not in ORIGINS:
            raise ValueError(f'rare_class_memory.py: origin must be one of '
                             f'{ORIGINS}, got {origin!r}')
        local = [
            obj for b in range(img.shape[0]) for obj in extract_objects(
                img[b], label[b], self.classes, self.min_area, origin)
        ]
        added = 0
        for objects in all_gather_objects(local):
            for obj in objects:
                queue = self.queues[obj.cls]
                queue.append(obj)
                del queue[:-self.capacity]
                added += 1
        return added

    @torch.no_grad()
    def update_frequency(self, pseudo_label: torch.Tensor) -> None:
        """Add the teacher pseudo-labels ``[B, H, W]`` of every rank to the
        histogram."""
        label = pseudo_label[(pseudo_label >= 0)
                             & (pseudo_label < self.num_classes)]
        counts = torch.bincount(label.flatten(), minlength=self.num_classes)
        counts = all_reduce_sum(counts).to(self.pseudo_hist)
        if self.freq_momentum is None:
            self.pseudo_hist += counts
        elif counts.sum() > 0:
            freq = counts / counts.sum()
            if self.pseudo_hist.sum() == 0:
                self.pseudo_hist.copy_(freq)
            else:
                m = self.freq_momentum
                self.pseudo_hist.mul_(m).add_((1 - m) * freq)

    def frequencies(self) -> torch.Tensor:
        total = self.pseudo_hist.sum()
        if total == 0:
            return torch.zeros_like(self.pseudo_hist)
        return self.pseudo_hist / total

    def class_probabilities(self) -> Tuple[List[int], torch.Tensor]:
        """Classes with stored objects and their sampling probabilities."""
        available = [c for c in self.classes if self.queues[c]]
        if not available:
            return [], torch.zeros(0)
        freq = self.frequencies().cpu()[available]
        return available, torch.softmax((1 - freq) / self.temperature, 0)

    def sample_class(self, generator: Optional[torch.Generator] = None) -> int:
        classes, probs = self.class_probabilities()
        draw = torch.multinomial(probs.to(_gen_device(generator)),
                                 1,
                                 generator=generator)
        return classes[int(draw)]

    # pasting --------------------------------------------------------------
    def _paste_object(self, out: MixedBatch, b: int, obj: ObjectCrop,
                      target: torch.Tensor, norm_cfg: Optional[dict],
                      generator: Optional[torch.Generator]) -> None:
        """Paste ``obj`` into sample ``b`` of ``out`` (in place)."""
        height, width = out.img.shape[-2:]
        ratio = height / obj.canvas_height
        scale = ratio * _uniform(generator, *self.scale_jitter)
        crop, mask = resize_object(obj, scale, out.img.device)
        if self.night_style:
            crop = night_recolour(crop, mask, target, norm_cfg)
        h, w = mask.shape
        centre = (obj.top + obj.mask.shape[0] / 2) * ratio
        left = _randint(generator, max(1, width - w + 1))
        region = paste_region(height, width, round(centre - h / 2), left, h, w)
        if region is None:
            return
        rows, cols, src_rows, src_cols = region
        mask = mask[src_rows, src_cols]
        crop = crop[:, src_rows, src_cols].to(out.img)
        img = out.img[b, :, rows, cols]
        img.copy_(torch.where(mask, crop, img))
        out.label[b, 0, rows, cols][mask] = obj.cls
        out.weight[b, rows, cols][mask] = 1.0
        out.mask[b, 0, rows, cols][mask] = 1.0

    @torch.no_grad()
    def paste(self,
              mixed: MixedBatch,
              target_img: torch.Tensor,
              norm_cfg: Optional[dict] = None,
              generator: Optional[torch.Generator] = None) -> MixedBatch:
        """A new batch with ``U{1..max_objects}`` memory objects per image."""
        out = MixedBatch(img=mixed.img.clone(),
                         label=mixed.label.clone(),
                         weight=mixed.weight.clone(),
                         mask=mixed.mask.clone())
        if not any(self.queues.values()):
            return out
        for b in range(out.img.shape[0]):
            for _ in range(1 + _randint(generator, self.max_objects)):
                queue = self.queues[self.sample_class(generator)]
                obj = queue[_randint(generator, len(queue))]
                self._paste_object(out, b, obj, target_img[b], norm_cfg,
                                   generator)
        return out

    def augment(self,
                ctx: UDAStepContext,
                mixed: MixedBatch,
                generator: Optional[torch.Generator] = None) -> MixedBatch:
        """Paste (with probability ``prob``), then store this step's objects.

        ``generator`` defaults to ``ctx.extras.get('generator')``.
        """
        if generator is None:
            generator = ctx.extras.get('generator')
        if ctx.pseudo is not None:
            self.update_frequency(ctx.pseudo.label)
        out = mixed
        if _uniform(generator) < self.prob:
            out = self.paste(mixed, ctx.target['img'],
                             sample_norm_cfg(ctx.source), generator)
        self.enqueue(ctx.source['img'], ctx.source['gt_semantic_seg'])
        if self.use_prompt and ctx.prompt is not None:
            self.enqueue(ctx.prompt['img'], ctx.prompt['gt_semantic_seg'],
                         'prompt')
        return out

    # checkpoint -----------------------------------------------------------
    def get_extra_state(self) -> Dict[str, Any]:
        queues = {}
        for cls, queue in self.queues.items():
            queues[str(cls)] = dict(
                imgs=[o.img.cpu() for o in queue],
                masks=[o.mask.cpu().to(torch.uint8) for o in queue],
                tops=[o.top for o in queue],
                canvas_heights=[o.canvas_height for o in queue],
                origins=[o.origin for o in queue])
        return dict(version=STATE_VERSION, queues=queues)

    def set_extra_state(self, state: Dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get('version') != \
                STATE_VERSION:
            raise ValueError('rare_class_memory.py: the checkpoint holds no '
                             f'RCM state of version {STATE_VERSION}')
        self.queues = {c: [] for c in self.classes}
        for key, q in state['queues'].items():
            cls = int(key)
            if cls not in self.queues:
                raise ValueError(f'rare_class_memory.py: checkpoint class '
                                 f'{cls} is not in classes {self.classes}')
            self.queues[cls] = [
                ObjectCrop(img=img,
                           mask=mask.bool(),
                           cls=cls,
                           top=int(top),
                           canvas_height=int(ch),
                           origin=origin) for img, mask, top, ch, origin in
                zip(q['imgs'], q['masks'], q['tops'], q['canvas_heights'],
                    q['origins'])
            ][-self.capacity:]
