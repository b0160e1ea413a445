"""mmengine's checkpoint hook, reordered so that a crash never loses the run.

mmengine's ``CheckpointHook`` with ``max_keep_ckpts=1`` deletes the previous
checkpoint *before* writing the new one, and removes the previous best
checkpoint before writing the new best: a kill (OOM killer, preemption,
power) during the write leaves no checkpoint at all while ``last_checkpoint``
still names the deleted file. Here every save is

    write the new file (atomically, through the ``atomic_local`` backend)
    -> point ``last_checkpoint`` at it (atomically)
    -> only then remove the outdated checkpoint,

so at every instant ``last_checkpoint`` names a complete file. Temp files
of a write that was killed (``.iter_N.pth*.tmp``) are removed when training
starts.

``save_best='mIoU'`` keeps the best checkpoint as ``best_mIoU_iter_N.pth``
(HRDA/mmseg 0.x naming), replaced in the same order.
"""
import glob
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmseg.errors import ConfigError
from mmseg.registry import HOOKS
from mmseg.utils.checkpoint_io import atomic_write_bytes

POINTER = 'last_checkpoint'


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`CheckpointHook` that removes old checkpoints only after the
    new one is complete and ``last_checkpoint`` names it (see module doc).

    Call graph: ``after_train_iter() -> _save_checkpoint() ->
    _save_checkpoint_with_step() -> runner.save_checkpoint() ->
    _point_to() -> _remove()``; ``after_val_epoch() ->
    _save_best_checkpoint()``.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process():
            for tmp in glob.glob(osp.join(self.out_dir, '.*.pth*.tmp')):
                os.remove(tmp)
                runner.logger.info(f'removed {tmp}, the partial write of an '
                                   'interrupted run')

    def _remove(self, path: str) -> None:
        if is_main_process() and self.file_backend.isfile(path):
            self.file_backend.remove(path)

    def _point_to(self, runner, path: str) -> None:
        if is_main_process():
            atomic_write_bytes(path.encode(),
                               osp.join(runner.work_dir, POINTER))

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        outdated: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        self._point_to(runner, self.last_ckpt)
        if outdated is not None and outdated != step:
            self._remove(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics: Dict) -> None:
        if not self.save_best:
            return
        for key in self.key_indicators:
            if key != 'auto' and key not in metrics:
                raise ConfigError(
                    f'checkpoint_config.save_best={key!r}: the evaluation '
                    f'returns no such metric (it returns '
                    f'{", ".join(sorted(metrics)[:8])} ...)')
        previous = self.best_ckpt_path
        self.best_ckpt_path = None  # the parent must not remove it first
        super()._save_best_checkpoint(runner, metrics)
        if self.best_ckpt_path is None:  # no improvement
            self.best_ckpt_path = previous
        elif previous and previous != self.best_ckpt_path:
            self._remove(previous)
            runner.logger.info(f'removed the previous best checkpoint '
                               f'{previous}')
