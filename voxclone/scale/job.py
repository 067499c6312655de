"""Running a batch job: resume from the job database, hand tasks to a backend, write outputs.

The driver (this module) is the only writer of the output folder and the job database: workers
return WAV bytes, the driver writes each output atomically (temp file, signed, renamed) and then
marks the item done. Ctrl-C is held over those steps, so an interrupt never separates an output
from its record; a crash between them leaves the item pending and the next run writes it again,
so every output exists exactly once and is never half written.
"""

from __future__ import annotations

import fcntl
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from voxclone.audio.io import MAX_FILE_BYTES
from voxclone.errors import BatchError
from voxclone.provenance.credentials import sign_stored
from voxclone.scale.jobdb import JobDB
from voxclone.scale.manifest import BatchItem, validate_id
from voxclone.scale.worker import ItemWorker, JobSpec, Outcome, Task

WorkerFactory = Callable[[JobSpec], ItemWorker]
LOCK_NAME = ".voxclone-batch.lock"
TMP_PREFIX = ".tmp-"


class Backend(Protocol):
    """Runs tasks on workers built from a spec; outcomes come back in any order."""

    def start(self, spec: JobSpec, factory: WorkerFactory) -> None:
        """Start the workers (each builds its engines and profile once)."""

    def map(self, tasks: Iterator[Task]) -> Iterator[Outcome]:
        """Pull tasks as workers free up; yield one outcome per task."""

    def close(self) -> None:
        """Stop the workers."""


@dataclass
class BatchSummary:
    """What a run did. done/failed: items finished or failed in this run; skipped: finished by an
    earlier run; audio_s: seconds of audio written; seconds: wall time of the processing (after
    start-up); startup_s: time to start the workers; failures: (id, reason) in this run."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    audio_s: float = 0.0
    seconds: float = 0.0
    startup_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def items_per_s(self) -> float:
        """Items finished per second of processing."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def rtf(self) -> float:
        """Real-time factor: processing wall time / seconds of audio written."""
        return self.seconds / self.audio_s if self.audio_s > 0 else 0.0

    def line(self) -> str:
        """One-line report."""
        return (f"done {self.done}, failed {self.failed}, skipped {self.skipped} (of {self.total}); "
                f"{self.audio_s:.1f} s of audio in {self.seconds:.1f} s: {self.items_per_s:.2f} "
                f"items/s, RTF {self.rtf:.3f} (start-up {self.startup_s:.1f} s)")


def output_file(out_dir: Path, item_id: str) -> Path:
    """``<out_dir>/<id>.wav``; refuses ids that could name anything outside ``out_dir``."""
    path = out_dir / f"{validate_id(item_id)}.wav"
    if path.resolve().parent != out_dir.resolve():
        raise BatchError(f"Item id {item_id!r} would write outside {out_dir}.")
    return path


def write_atomic(path: Path, data: bytes, finish: Callable[[Path], object] | None = None) -> None:
    """Write ``data`` to a temp file beside ``path``, flush it to disk, hand the temp file to
    ``finish`` (e.g. to sign it), rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=".wav")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if finish is not None:
            finish(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then act on it as the previous handler would.

    Keeps an output and its record together, and keeps the interrupt out of C callbacks
    (c2pa's stream callbacks print a KeyboardInterrupt raised in them and carry on)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt


@contextmanager
def locked_folder(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` (one job per folder at a time); clean stale temp files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_NAME, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"Another batch job is running on {out_dir}: wait for it or use "
                             "another --out folder.") from None
        for stale in out_dir.glob(f"{TMP_PREFIX}*.wav"):
            stale.unlink()
        yield


def execute(items: Sequence[BatchItem], spec: JobSpec, out_dir: Path, backend: Backend,
            factory: WorkerFactory = ItemWorker, progress: bool = False) -> BatchSummary:
    """Run ``items`` not yet done on ``backend``, recording each outcome; returns the summary."""
    out_dir = Path(out_dir)
    with locked_folder(out_dir):
        db = JobDB(out_dir, spec.fingerprint(), spec.describe())
        try:
            return _execute(items, spec, out_dir, backend, factory, db, progress)
        finally:
            db.close()


def _execute(items: Sequence[BatchItem], spec: JobSpec, out_dir: Path, backend: Backend,
             factory: WorkerFactory, db: JobDB, progress: bool) -> BatchSummary:
    db.add(item.id for item in items)
    todo = [item for item in items if not _finished(db, out_dir, item.id)]
    summary = BatchSummary(total=len(items), skipped=len(items) - len(todo))
    if not todo:
        return summary
    bar = tqdm(total=len(todo), desc="batch", unit="item", disable=not progress or None)

    def record(outcome: Outcome) -> None:
        if outcome.wav is None:
            db.mark_failed(outcome.id, outcome.error or "unknown error", outcome.seconds)
            summary.failed += 1
            summary.failures.append((outcome.id, outcome.error or "unknown error"))
        else:
            path = output_file(out_dir, outcome.id)
            with interrupts_held():  # the driver holds the signing key; workers may be elsewhere
                write_atomic(path, outcome.wav, lambda tmp: sign_stored(tmp, title=path.name))
                db.mark_done(outcome.id, outcome.audio_s, outcome.seconds)
            summary.done += 1
            summary.audio_s += outcome.audio_s
        bar.update()

    def tasks() -> Iterator[Task]:
        for item in todo:
            task = _task(item)
            if isinstance(task, Outcome):
                record(task)
                continue
            db.mark_running(item.id)
            yield task

    try:
        start = time.perf_counter()
        backend.start(spec, factory)
        summary.startup_s = time.perf_counter() - start
        start = time.perf_counter()
        for outcome in backend.map(tasks()):
            record(outcome)
        summary.seconds = time.perf_counter() - start
    finally:
        bar.close()
        backend.close()
    return summary


def _finished(db: JobDB, out_dir: Path, item_id: str) -> bool:
    if db.status(item_id) != "done":
        return False
    if output_file(out_dir, item_id).is_file():
        return True
    db.mark_pending(item_id)  # its output was removed: make it again
    return False


def _task(item: BatchItem) -> Task | Outcome:
    """The task of ``item``; for convert, its input file is read here (workers may be elsewhere)."""
    if item.path is None:
        return Task(item.id, text=item.text or "")
    path = Path(item.path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Outcome(item.id, None, error=f"AudioError: {path} is too large ({size} bytes).")
        return Task(item.id, data=path.read_bytes(), name=path.name)
    except OSError as exc:
        return Outcome(item.id, None, error=f"AudioError: cannot read {path} ({exc.strerror}).")
