"""Per-stage wall-clock timing shared by the pipeline, the bench and the server."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator


class StageTimer:
    """Accumulates milliseconds per named stage: ``with timer.stage("tts"): ...``; stages may be
    timed from several threads at once (their times then add up to more than the wall clock)."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = 1000.0 * (time.perf_counter() - start)
            with self._lock:
                self.ms[name] = self.ms.get(name, 0.0) + elapsed

    @property
    def total_ms(self) -> float:
        """Sum over stages."""
        return sum(self.ms.values())


@contextmanager
def maybe_stage(timer: StageTimer | None, name: str) -> Iterator[None]:
    """``timer.stage(name)`` when a timer is given, else nothing."""
    if timer is None:
        yield
    else:
        with timer.stage(name):
            yield
