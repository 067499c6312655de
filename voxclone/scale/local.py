"""Local backends: in this process (one worker) or a pool of worker processes on this machine."""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from voxclone.errors import BatchError
from voxclone.scale.worker import ItemWorker, JobSpec, Outcome, Task

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
"""Times an item is tried when its worker process dies under it; then it is recorded failed."""
IN_FLIGHT_PER_WORKER = 2

_worker: ItemWorker | None = None


class InProcessBackend:
    """One worker in the calling process: no start-up cost, a crash stops the job (resumable)."""

    def __init__(self) -> None:
        self.worker: ItemWorker | None = None

    def start(self, spec: JobSpec, factory=ItemWorker) -> None:
        self.worker = factory(spec)

    def map(self, tasks: Iterator[Task]) -> Iterator[Outcome]:
        assert self.worker is not None, "start() first"
        for task in tasks:
            yield self.worker.process(task)

    def close(self) -> None:
        self.worker = None


def _init_worker(factory, spec: JobSpec) -> None:
    global _worker
    _worker = factory(spec)


def _process(task: Task) -> Outcome:
    assert _worker is not None
    return _worker.process(task)


class ProcessPoolBackend:
    """``workers`` processes (spawned), each building its worker once. When a process dies, the
    pool is rebuilt and the tasks it held are tried again, up to ``MAX_ATTEMPTS`` times each."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self._init: tuple | None = None

    def start(self, spec: JobSpec, factory=ItemWorker) -> None:
        self._init = (factory, spec)
        self.pool = self._new_pool()
        try:  # build every worker now, so start-up is not counted as processing time
            list(self.pool.map(_ping, range(self.workers)))
        except BrokenProcessPool as exc:
            raise BatchError("The worker processes could not start (their error is printed "
                             "above); run with --workers 1 to see it as a voxclone error.") from exc

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=self._init)

    def map(self, tasks: Iterator[Task]) -> Iterator[Outcome]:
        retry: deque[Task] = deque()  # tasks lost with a dead process: run one at a time
        attempts: dict[str, int] = {}
        running: dict[Future, Task] = {}
        source = iter(tasks)
        while True:
            self._fill(running, retry, source, attempts)
            if not running:
                return
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            lost = []
            for future in finished:
                task = running.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    lost.append(task)
                else:
                    yield future.result()
            if lost:  # a process died: the pool and every task it still held are gone
                log.warning("a worker process died; restarting the workers")
                lost.extend(running.values())
                running.clear()
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._new_pool()
                for task in lost:
                    if attempts[task.id] >= MAX_ATTEMPTS:
                        yield Outcome(task.id, None, error=f"WorkerDied: the worker process died "
                                                           f"{MAX_ATTEMPTS} times on this item.")
                    else:
                        retry.append(task)

    def _fill(self, running: dict[Future, Task], retry: deque[Task], source: Iterator[Task],
              attempts: dict[str, int]) -> None:
        """Submit tasks up to the in-flight limit; a retried task runs alone, so that a task
        which kills its process is found out and the others are not blamed with it."""
        while len(running) < IN_FLIGHT_PER_WORKER * self.workers:
            if retry and running:
                return
            task = retry.popleft() if retry else next(source, None)
            if task is None:
                return
            attempts[task.id] = attempts.get(task.id, 0) + 1
            running[self.pool.submit(_process, task)] = task
            if attempts[task.id] > 1:
                return

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _ping(_: int) -> bool:
    return _worker is not None
