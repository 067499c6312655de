"""The Ray backend: one actor per worker, each building its engines and profile once.

Ray restarts an actor whose process dies and retries the tasks it held (``max_task_retries``);
an item that kills its worker every time is recorded failed after ``MAX_ATTEMPTS`` tries and the
job goes on. Only the spec (settings + voice profile, a few KB) and each task's text or input
bytes travel to the workers; outputs come back as WAV bytes and the driver writes them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voxclone.errors import BatchError, EngineUnavailable
from voxclone.scale.worker import ItemWorker, JobSpec, Outcome, Task

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
IN_FLIGHT_PER_WORKER = 1
"""Tasks queued per actor. One: a task queued behind an item that kills the actor would be
retried, and die, with it."""
LOCAL = "local"
"""The address meaning "start a new Ray on this machine" (never joins a running one)."""


class _RayWorker:
    """Actor body: the worker built once in the actor's process."""

    def __init__(self, factory, spec: JobSpec) -> None:
        self.worker = factory(spec)

    def ready(self) -> bool:
        return True

    def process(self, task: Task) -> Outcome:
        return self.worker.process(task)


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise EngineUnavailable("Running on Ray needs the ray package: pip install 'voxclone[ray]'.") from exc
    return ray


class RayBackend:
    """Run tasks on a Ray cluster. ``address``: ``local`` (start Ray here), ``auto`` (a cluster
    started on this machine with ``ray start``) or ``ray://host:10001``; ignored when Ray is
    already initialised in this process. ``workers``: actors (default: the cluster's CPUs)."""

    def __init__(self, address: str = LOCAL, workers: int | None = None,
                 init_kwargs: dict[str, Any] | None = None) -> None:
        self.address = address
        self.workers = workers
        self.init_kwargs = init_kwargs or {}
        self.actors: list[Any] = []
        self._owns_ray = False

    def start(self, spec: JobSpec, factory=ItemWorker) -> None:
        ray = _ray()
        if not ray.is_initialized():
            self._connect(ray)
        n = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=MAX_ATTEMPTS - 1)(_RayWorker)
        self.actors = [actor.remote(factory, spec) for _ in range(n)]
        try:
            ray.get([a.ready.remote() for a in self.actors])
        except ray.exceptions.RayError as exc:
            raise BatchError(f"The Ray workers could not start: {exc}") from exc

    def _connect(self, ray: Any) -> None:
        kwargs = dict(self.init_kwargs)
        kwargs.setdefault("include_dashboard", False)
        kwargs.setdefault("log_to_driver", False)
        if self.address != LOCAL:
            import voxclone

            # ship this voxclone's code; its dependencies must be installed on the cluster
            kwargs.setdefault("runtime_env", {"py_modules": [str(Path(voxclone.__file__).parent)]})
        try:
            ray.init(address=self.address, **kwargs)  # "local" always starts a new Ray
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BatchError(f"Cannot reach a Ray cluster at {self.address!r} ({exc}). Start one "
                             "with `ray start --head` or use --ray local.") from exc
        self._owns_ray = True

    def map(self, tasks: Iterator[Task]) -> Iterator[Outcome]:
        ray = _ray()
        running: dict[Any, tuple[Task, int]] = {}  # object ref → (task, actor index)
        load = [0] * len(self.actors)
        source = iter(tasks)
        while True:
            for i, actor in enumerate(self.actors):
                while load[i] < IN_FLIGHT_PER_WORKER and (task := next(source, None)) is not None:
                    running[actor.process.remote(task)] = (task, i)
                    load[i] += 1
            if not running:
                return
            (ref,), _ = ray.wait(list(running), num_returns=1)
            task, i = running.pop(ref)
            load[i] -= 1
            try:
                yield ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                log.warning("item %s: its worker died %d times (%s)", task.id, MAX_ATTEMPTS, exc)
                yield Outcome(task.id, None, error=f"WorkerDied: the worker process died "
                                                   f"{MAX_ATTEMPTS} times on this item.")

    def close(self) -> None:
        if not self.actors and not self._owns_ray:
            return
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False
