"""Actions of the web UI's Training tab.

The serve layer does not import ``voxclone.train``: each action runs the ``voxclone`` command
line in a child process (``dataset prepare``, ``train config``, ``train codec-lm``) and reads the
run folder it writes (``log.jsonl``, ``checkpoints/``). A stop request is a ``STOP`` file in the
run folder: the trainer saves a checkpoint and exits. Speaking goes through the pipeline with the
``codec-lm:CHECKPOINT`` engine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from voxclone.errors import VoxcloneError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TrainingRuns:
    """Training projects under ``root``: ``NAME/data`` (dataset), ``NAME/exp.yaml``, ``NAME/run``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.procs: dict[str, subprocess.Popen] = {}

    def _dir(self, name: str) -> Path:
        if not _NAME.match(name or ""):
            raise VoxcloneError("Name the training project with letters, digits, '_', '-' or '.'.")
        return self.root / name

    def _cli(self, *args: str) -> subprocess.CompletedProcess:
        out = subprocess.run([sys.executable, "-m", "voxclone.cli.main", *args], capture_output=True,
                             text=True, check=False)
        if out.returncode != 0:
            raise VoxcloneError((out.stderr or out.stdout).strip().splitlines()[-1] if (out.stderr or out.stdout)
                                else f"`voxclone {args[0]}` failed")
        return out

    def prepare(self, name: str, voice: str | None = None, folder: str | None = None) -> str:
        """Make ``NAME/data`` from a library voice (split + transcribed) or a corpus folder."""
        if not voice and not folder:
            raise VoxcloneError("Choose a library voice (or give a dataset folder) to prepare.")
        args = ["dataset", "prepare", *([folder] if folder else []), "--out", str(self._dir(name) / "data")]
        return self._cli(*args, *(["--voice", voice] if voice else [])).stdout.strip()

    def configure(self, name: str, size: str = "small", steps: int = 1000, lr: float = 3e-4,
                  extra: list[str] | None = None) -> str:
        """Write ``NAME/exp.yaml`` for the prepared data; returns its text."""
        d = self._dir(name)
        if not (d / "data" / "metadata.csv").is_file():
            raise VoxcloneError(f"Prepare the dataset of '{name}' first.")
        sets = [a for kv in extra or [] for a in ("--set", kv)]
        self._cli("train", "config", "-o", str(d / "exp.yaml"), "--data", str(d / "data"), "--out",
                  str(d / "run"), "--size", size, "--steps", str(int(steps)), "--lr", str(lr), *sets)
        return (d / "exp.yaml").read_text()

    def start(self, name: str, resume: bool = False) -> str:
        """Start (or resume) training in a child process."""
        d = self._dir(name)
        if not (d / "exp.yaml").is_file():
            raise VoxcloneError(f"Generate the configuration of '{name}' first.")
        if self.running(name):
            return f"'{name}' is already training."
        args = [sys.executable, "-m", "voxclone.cli.main", "train", "codec-lm", "--config",
                str(d / "exp.yaml"), *(["--resume"] if resume else [])]
        d.mkdir(parents=True, exist_ok=True)
        with (d / "train.out").open("w") as log:
            self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        return f"Training '{name}' started."

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def stop(self, name: str) -> str:
        """Ask the run to save a checkpoint and end."""
        run = self._dir(name) / "run"
        if not self.running(name):
            return f"'{name}' is not training."
        run.mkdir(parents=True, exist_ok=True)
        (run / "STOP").touch()
        return f"Stopping '{name}' after its current step."

    def wait(self, name: str, timeout: float | None = None) -> int | None:
        proc = self.procs.get(name)
        return None if proc is None else proc.wait(timeout)

    def records(self, name: str) -> list[dict]:
        path = self._dir(name) / "run" / "log.jsonl"
        if not path.is_file():
            return []
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]

    def progress(self, name: str) -> str:
        """One line: state, step, last losses, latest checkpoint."""
        recs = [r for r in self.records(name) if "ar_loss" in r]
        state = "training" if self.running(name) else "idle"
        if not recs:
            return f"{name}: {state}, no step logged yet."
        r, ckpt = recs[-1], self.checkpoint(name)
        return (f"{name}: {state}, step {r['step']}, AR loss {r['ar_loss']:.3f} (acc {r['ar_acc']:.2f}), "
                f"NAR loss {r['nar_loss']:.3f}; checkpoint: {ckpt or 'none yet'}")

    def loss_plot(self, name: str, path: Path) -> Path | None:
        """PNG of the AR and NAR losses so far."""
        recs = [r for r in self.records(name) if "ar_loss" in r]
        if not recs:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        steps = [r["step"] for r in recs]
        ax.plot(steps, [r["ar_loss"] for r in recs], label="AR")
        ax.plot(steps, [r["nar_loss"] for r in recs], label="NAR")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return Path(path)

    def checkpoint(self, name: str) -> str | None:
        """The latest complete checkpoint folder of ``name``."""
        found = sorted(p for p in (self._dir(name) / "run" / "checkpoints").glob("step-*")
                       if (p / "state.pt").is_file())
        return str(found[-1]) if found else None
