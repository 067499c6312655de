"""Worker factories for tests: workers that die or are interrupted on a chosen item."""

from __future__ import annotations

import os
from dataclasses import dataclass

from voxclone.scale.worker import ItemWorker, JobSpec, Outcome, Task


@dataclass(frozen=True)
class CrashOn:
    """Builds workers whose process exits (``os._exit``) on chosen items: on ``once`` the first
    time any worker meets it (``marker`` is created then), on ``always`` every time."""

    once: str | None = None
    marker: str = ""
    always: str | None = None

    def __call__(self, spec: JobSpec) -> ItemWorker:
        return _CrashingWorker(spec, self)

    def should_crash(self, item_id: str) -> bool:
        """True when meeting ``item_id`` now must kill the process."""
        if item_id == self.always:
            return True
        if item_id != self.once:
            return False
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True


class _CrashingWorker(ItemWorker):
    def __init__(self, spec: JobSpec, plan: CrashOn) -> None:
        super().__init__(spec)
        self.plan = plan

    def process(self, task: Task) -> Outcome:
        if self.plan.should_crash(task.id):
            os._exit(3)
        return super().process(task)


@dataclass(frozen=True)
class InterruptAt:
    """Builds in-process workers that raise KeyboardInterrupt (as Ctrl-C would) at ``item_id``."""

    item_id: str

    def __call__(self, spec: JobSpec) -> ItemWorker:
        return _InterruptingWorker(spec, self.item_id)


class _InterruptingWorker(ItemWorker):
    def __init__(self, spec: JobSpec, item_id: str) -> None:
        super().__init__(spec)
        self.item_id = item_id

    def process(self, task: Task) -> Outcome:
        if task.id == self.item_id:
            raise KeyboardInterrupt
        return super().process(task)
