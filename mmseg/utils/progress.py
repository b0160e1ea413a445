"""A one-line progress display with a rate and an ETA (the demos)."""
import sys
import time
from typing import IO, Optional


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m:02d}:{s:02d}'


class RateProgress:
    """``[  12/100] 3.41 images/s, elapsed 00:03, ETA 00:26``, rewritten in
    place (``\\r``) at most every ``interval`` seconds and on the last item;
    into a file or pipe, one line at most every 5 s instead.

    Args:
        total: items expected (None: unknown, no ETA).
        unit: what is counted, e.g. ``'images'`` or ``'frames'``.
        stream: where to write (default stdout).
        interval: minimum seconds between two redraws.
    """

    def __init__(self, total: Optional[int], unit: str = 'images',
                 stream: Optional[IO[str]] = None,
                 interval: float = 0.5) -> None:
        self.total = total
        self.unit = unit
        self.stream = stream or sys.stdout
        self.interval = interval
        self.done = 0
        self.start = time.perf_counter()
        self._last_draw = -float('inf')
        self._drawn = False
        isatty = getattr(self.stream, 'isatty', None)
        self._tty = bool(isatty and isatty())
        if not self._tty:
            self.interval = max(interval, 5.0)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        """Items per second so far (0 before the first)."""
        return self.done / self.elapsed if self.done else 0.0

    def line(self) -> str:
        width = len(str(self.total)) if self.total else 1
        head = (f'[{self.done:>{width}}/{self.total}]' if self.total
                else f'[{self.done}]')
        text = (f'{head} {self.rate:.2f} {self.unit}/s, elapsed '
                f'{_clock(self.elapsed)}')
        if self.total and self.done:
            eta = (self.total - self.done) / self.rate
            text += f', ETA {_clock(eta)}'
        return text

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if (now - self._last_draw >= self.interval
                or self.done == self.total):
            self._last_draw = now
            if self._tty:
                self.stream.write('\r' + self.line())
                self._drawn = True
            else:  # a log file: one line per redraw
                self.stream.write(self.line() + '\n')
            self.stream.flush()

    def message(self, text: str) -> None:
        """Print ``text`` on a line of its own (the bar is redrawn on the
        next update)."""
        if self._drawn:
            self.stream.write('\n')
            self._drawn = False
        self.stream.write(text + '\n')
        self.stream.flush()

    def close(self) -> None:
        """End the progress line."""
        if self._drawn:
            self.stream.write('\n')
            self.stream.flush()
            self._drawn = False
