"""The demos' progress line: rate, seconds per item when slow, ETA."""
import io

from mmseg.utils.progress import RateProgress


def test_progress_line_rate_eta_and_slow_items(monkeypatch):
    clock = iter([0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    monkeypatch.setattr('mmseg.utils.progress.time.perf_counter',
                        lambda: next(clock))
    stream = io.StringIO()  # not a terminal: whole lines
    progress = RateProgress(4, 'frames', stream=stream)
    progress.update()
    assert stream.getvalue() == ('[1/4] 0.5 frames/s, 2 s each, elapsed '
                                 '00:02, ETA 00:06\n')
    progress.message('skipped: x')
    assert stream.getvalue().endswith('skipped: x\n')
    assert progress.rate_text() == '0.5 frames/s, 2 s each'
