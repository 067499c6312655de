"""A learned frame map: mel-cepstra of one speaker's frames → the same phones in another's voice.

Trained from parallel frames (the base TTS and the target speaking the same words, aligned), it
is a small MLP from a window of source frames (c1.., ±``context`` frames, and the voicing flag)
to the target's c1.. of the centre frame, in units of each side's own mean and spread. It runs
in numpy; torch is used only to fit it. An optional global-variance factor per dimension undoes
the oversmoothing of a least-squares map (the spread of its predictions on the training frames
brought back to the target's).
"""

from __future__ import annotations

import base64
import io
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from scipy.special import erf

from voxclone.errors import InvalidSetting, ReferenceTooShort

MIN_PAIRS = 1000
"""Fewest aligned speech frames (of 5 ms, i.e. 5 s) a map is trained on."""


@dataclass(frozen=True)
class FrameMapConfig:
    """context: source frames on each side of the centre frame (step ``stride`` frames apart);
    hidden: width of the two hidden layers; steps: AdamW steps, each on min(N, 2048) frames
    drawn at random with replacement, cosine-decayed from ``lr``; weight_decay;
    gv: scale the predictions' spread per dimension to the target's; seed: initial weights."""

    context: int = 2
    stride: int = 2
    hidden: int = 128
    steps: int = 750
    lr: float = 2e-3
    weight_decay: float = 1e-4
    gv: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.context < 0 or self.stride < 1 or self.hidden < 1 or self.steps < 1:
            raise InvalidSetting(f"Bad frame-map settings {self}: context ≥ 0, stride, hidden, steps ≥ 1.")

    @property
    def key(self) -> str:
        return "-".join(str(v) for v in asdict(self).values())


def context_frames(mcep: np.ndarray, voiced: np.ndarray, context: int, stride: int) -> np.ndarray:
    """Model inputs (T, (2·context+1)·order + 1): c1.. of frames t + stride·k, k = −context..context
    (edges repeat), and the voicing flag of frame t."""
    t = len(mcep)
    offsets = stride * np.arange(-context, context + 1)
    idx = np.clip(np.arange(t)[:, None] + offsets[None], 0, t - 1)
    stacked = mcep[idx].reshape(t, -1)
    return np.concatenate([stacked, voiced[:, None].astype(np.float64)], axis=1)


@dataclass
class FrameMap:
    """Weights of a fitted map (numpy float32) and its normalisation."""

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]
    gv_scale: np.ndarray
    gv_center: np.ndarray
    context: int
    stride: int

    @classmethod
    def fit(cls, inputs: np.ndarray, targets: np.ndarray, config: FrameMapConfig = FrameMapConfig(),
            min_pairs: int = MIN_PAIRS) -> "FrameMap":
        """Fit on ``inputs`` (N, F) from :func:`context_frames` and ``targets`` (N, order), the
        target's c1.. of each input's centre frame (or any inputs laid out alike: the voicing
        flag last); fewer than ``min_pairs`` rows are refused."""
        import torch

        if len(inputs) < min_pairs:
            raise ReferenceTooShort(f"Only {len(inputs) * 0.005:.1f} s of speech could be aligned "
                                    f"with the base voice; adaptation needs {min_pairs * 0.005:g} s "
                                    "or more. Add clips of clear speech with their words audible.")
        x_mean, x_std = inputs.mean(axis=0), np.maximum(inputs.std(axis=0), 1e-4)
        x_mean[-1], x_std[-1] = 0.0, 1.0  # the voicing flag stays 0/1
        y_mean, y_std = targets.mean(axis=0), np.maximum(targets.std(axis=0), 1e-4)
        x = torch.from_numpy(((inputs - x_mean) / x_std).astype(np.float32))
        y = torch.from_numpy(((targets - y_mean) / y_std).astype(np.float32))
        gen = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], config.hidden), torch.nn.GELU(),
                                  torch.nn.Linear(config.hidden, config.hidden), torch.nn.GELU(),
                                  torch.nn.Linear(config.hidden, y.shape[1]))
        opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps)
        batch = min(len(x), 2048)
        for _ in range(config.steps):
            rows = torch.randint(0, len(x), (batch,), generator=gen)
            loss = torch.nn.functional.mse_loss(net(x[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        layers = [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears]
        out = cls(x_mean, x_std, y_mean, y_std, layers, np.ones(y.shape[1]), np.zeros(y.shape[1]),
                  config.context, config.stride)
        if config.gv:
            pred = out._forward(x.numpy())
            out.gv_center = pred.mean(axis=0)
            out.gv_scale = np.clip(1.0 / np.maximum(pred.std(axis=0), 1e-3), 1.0, 2.0)
        return out

    def _forward(self, z: np.ndarray) -> np.ndarray:
        """Normalised inputs (N, F) → normalised predictions (N, order)."""
        h = z.astype(np.float32)
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # GELU, as torch's
        return h

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        """Predictions (N, order) for model inputs (N, F) laid out as at :meth:`fit`."""
        pred = self._forward((inputs - self.x_mean) / self.x_std)
        pred = self.gv_center + (pred - self.gv_center) * self.gv_scale
        return pred * self.y_std + self.y_mean

    def predict(self, mcep: np.ndarray, voiced: np.ndarray) -> np.ndarray:
        """The target's c1.. (T, order) for every frame of a source sequence ``mcep`` (T, order+1)."""
        return self.forward(context_frames(mcep[:, 1:], voiced, self.context, self.stride))

    def to_text(self) -> str:
        """Compressed base64 text of the map (what the voice's adaptation stores)."""
        arrays = {"x_mean": self.x_mean, "x_std": self.x_std, "y_mean": self.y_mean,
                  "y_std": self.y_std, "gv_scale": self.gv_scale, "gv_center": self.gv_center,
                  "shape": np.array([self.context, self.stride, len(self.layers)])}
        for i, (w, b) in enumerate(self.layers):
            arrays[f"w{i}"], arrays[f"b{i}"] = w.astype(np.float16), b.astype(np.float32)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> "FrameMap":
        """Inverse of :meth:`to_text`."""
        with np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False) as d:
            context, stride, n = (int(v) for v in d["shape"])
            layers = [(d[f"w{i}"].astype(np.float32), d[f"b{i}"]) for i in range(n)]
            return cls(d["x_mean"], d["x_std"], d["y_mean"], d["y_std"], layers, d["gv_scale"],
                       d["gv_center"], context, stride)


@lru_cache(maxsize=32)
def decoded_map(text: str) -> FrameMap:
    """:meth:`FrameMap.from_text`, kept for the next call with the same text (a voice's maps are
    decoded once, not per converted piece); the map returned is shared: do not change it."""
    return FrameMap.from_text(text)
