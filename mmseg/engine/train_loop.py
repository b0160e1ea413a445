"""Iteration-based training loop that resumes its data stream in O(1)."""
import logging

import torch

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmseg.registry import LOOPS


@LOOPS.register_module()
class SeededIterBasedTrainLoop(IterBasedTrainLoop):
    """:class:`IterBasedTrainLoop` that, on resume, moves a sampler with
    ``set_start`` (``SeededInfiniteSampler``) to where the run stopped instead of
    loading and discarding every batch already trained on."""

    def run(self):
        if self._iter > 0:
            sampler = self.dataloader.sampler
            if hasattr(sampler, 'set_start'):
                sampler.set_start(self._iter * self.dataloader.batch_size)
                # A new DataLoader iterator draws its base seed from torch's
                # global RNG, which was just restored from the checkpoint.
                rng_state = torch.get_rng_state()
                self.dataloader_iterator = _InfiniteDataloaderIterator(
                    self.dataloader)
                torch.set_rng_state(rng_state)
                print_log(
                    f'Data stream resumed at iteration {self._iter}',
                    logger='current',
                    level=logging.INFO)
                return self._run_from_current()
        return super().run()

    def _run_from_current(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(self.dataloader_iterator))
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
