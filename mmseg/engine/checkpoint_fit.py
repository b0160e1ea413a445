"""Fit a checkpoint's weights onto the model a run trains.

``load_from`` (``--load-from``) may name a checkpoint of the same model (a
training checkpoint of this run's method), a released or published segmentor
(``tools/publish_model.py`` output, HRDA/DAFormer releases: the segmentor's
keys without the UDA wrapper's ``model.`` prefix) or a UDA checkpoint given to
a plain segmentor. :func:`fit_state_dict` tries each reading of the keys and
takes the one that matches most tensors (the student on a tie):

* as is (a DDP ``module.`` prefix removed);
* the segmentor's keys onto the UDA wrapper's student (``model.`` added);
* a UDA checkpoint's student (``model.*``) onto a plain segmentor.

A load that fills less than :data:`MIN_MATCHED_FRACTION` of the target
network's tensors raises :class:`CheckpointLoadError` naming the file, the
counts and an example key of each side, instead of training from scratch
with a notice in the log. A resume (``exact=True``) accepts only the keys as
they are, and every tensor must be there with its shape.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

from mmseg.utils.checkpoint_io import CheckpointLoadError

STUDENT_PREFIX = 'model.'
BACKBONE_PREFIX = 'backbone.'
MIN_MATCHED_FRACTION = 0.5
MAX_SHOWN = 3


@dataclass
class FitReport:
    """What a fitted load covers: ``target`` is the whole model or the
    student; ``total`` counts the target's entries."""
    reading: str
    target: str
    loaded: int
    total: int
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[str] = field(default_factory=list)

    def summary(self, filename: str) -> str:
        parts = [f'{filename}: loaded {self.loaded}/{self.total} tensors of '
                 f'the {self.target} ({self.reading})']
        for name, keys in (('missing', self.missing),
                           ('unexpected', self.unexpected),
                           ('shape-mismatched', self.mismatched)):
            if keys:
                parts.append(f'{len(keys)} {name}, e.g. {_shown(keys)}')
        return '; '.join(parts)


def _shown(keys: Sequence[str]) -> str:
    keys = sorted(keys)
    return ', '.join(keys[:MAX_SHOWN]) + (' ...' if len(keys) > MAX_SHOWN
                                          else '')


def _strip(state: Dict, prefix: str) -> Dict:
    """Remove ``prefix`` when every key carries it."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state


def _has_student(model: nn.Module) -> bool:
    return isinstance(getattr(model, 'model', None), nn.Module) and any(
        k.startswith(STUDENT_PREFIX) for k in model.state_dict())


def _readings(model: nn.Module,
              state: Dict) -> List[Tuple[str, str, str, Dict]]:
    """``(reading, target, target key prefix, state dict)`` candidates."""
    state = _strip(state, 'module.')
    readings = [('keys as saved', 'model', '', state)]
    students = {k: v for k, v in state.items()
                if k.startswith(STUDENT_PREFIX)}
    if _has_student(model):
        segmentor = _strip(students, STUDENT_PREFIX) if students else state
        readings.append(('segmentor weights mapped onto the student',
                         'student', STUDENT_PREFIX,
                         {STUDENT_PREFIX + k: v
                          for k, v in segmentor.items()}))
    elif students:
        readings.append(('student of a UDA checkpoint', 'model', '',
                         _strip(students, STUDENT_PREFIX)))
    return readings


def _compare(own: Dict, state: Dict, prefix: str) -> FitReport:
    scope = [k for k in own if k.startswith(prefix)]
    matched, mismatched = [], []
    for key in scope:
        if key not in state:
            continue
        mine, theirs = own[key], state[key]
        if torch.is_tensor(mine) and (not torch.is_tensor(theirs)
                                      or mine.shape != theirs.shape):
            mismatched.append(key)
        else:
            matched.append(key)
    return FitReport('', '', len(matched), len(scope),
                     missing=[k for k in scope if k not in state],
                     unexpected=[k for k in state if k not in own],
                     mismatched=mismatched)


def fit_state_dict(model: nn.Module, state: Dict, filename: str,
                   exact: bool = False) -> Tuple[Dict, FitReport]:
    """The entries of ``state`` that fit ``model`` (keys renamed as the
    chosen reading says) and a :class:`FitReport`.

    Raises :class:`CheckpointLoadError` when fewer than
    :data:`MIN_MATCHED_FRACTION` of the target's tensors match, or, with
    ``exact`` (resume), when anything is missing, unexpected or of another
    shape.
    """
    own = model.state_dict()
    best = None
    for reading, target, prefix, candidate in _readings(model, state):
        if exact and reading != 'keys as saved':
            continue
        report = _compare(own, candidate, prefix)
        report.reading, report.target = reading, target
        if best is None or report.loaded >= best[0].loaded:
            best = (report, candidate, prefix)
    report, candidate, prefix = best
    name = type(model).__name__
    if exact and (report.missing or report.unexpected or report.mismatched):
        raise CheckpointLoadError(
            f'{filename} does not fit {name} exactly, so the run cannot be '
            f'resumed from it: {report.summary(filename)}; use --load-from '
            'to initialise the weights only')
    if report.loaded < MIN_MATCHED_FRACTION * max(report.total, 1):
        hint = _backbone_hint(own, state)
        raise CheckpointLoadError(
            f'{filename} does not fit {name}: only {report.loaded} of '
            f'{report.total} tensors of the {report.target} match (checkpoint '
            f'keys e.g. {_shown(list(state)) or "none"}; {report.target} '
            f'keys e.g. {_shown([k for k in own if k.startswith(prefix)])})'
            f'{hint}')
    fitted = {k: candidate[k] for k in own if k in candidate
              and k not in report.mismatched}
    return fitted, report


def _backbone_hint(own: Dict, state: Dict) -> str:
    """A remedy when ``state`` looks like backbone-only (ImageNet) weights."""
    backbone = [k for k in own if BACKBONE_PREFIX in k]
    suffixes = {k.split(BACKBONE_PREFIX, 1)[1] for k in backbone}
    hits = sum(k in suffixes for k in state)
    if state and hits >= MIN_MATCHED_FRACTION * len(state):
        return ('; these look like backbone weights: set model.pretrained '
                'to the file instead')
    return ''
