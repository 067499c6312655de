"""The GE2E speaker encoder whose weights ship in the ``resemblyzer`` wheel, run without that
package's code (which imports librosa, ~1.3 s and a JIT warm-up on the first call).

Inference as published with the weights: 16 kHz speech, raised to -30 dBFS if quieter, long
silences cut with WebRTC VAD (30 ms windows, a moving average over 8, pauses of up to 6 windows
kept), a 40-band Slaney mel power spectrogram (25 ms Hann window, 10 ms hop, centred frames),
partial utterances of 160 frames at 1.3 per second, a 3-layer LSTM (256) and a ReLU projection
per partial, L2-normalised; the utterance's embedding is the normalised mean of the partials'.
"""

from __future__ import annotations

import pickle
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxclone.audio.mel import power_mel
from voxclone.errors import EngineUnavailable, ModelCorrupt

SAMPLE_RATE = 16000
N_MELS = 40
WINDOW = 400          # samples, 25 ms
HOP = 160             # samples, 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE = 1.3    # partials per second
MIN_COVERAGE = 0.75   # share of the last partial that must be speech for it to count
TARGET_DBFS = -30.0
VAD_WINDOW = 480      # samples, 30 ms
VAD_AVERAGE = 8       # windows
VAD_MAX_SILENCE = 6   # windows


class GE2EEncoder(nn.Module):
    """LSTM(40 → 256, 3 layers) → Linear(256, 256) → ReLU → L2 norm; parameter names as in the
    checkpoint (``similarity_weight``/``similarity_bias`` are GE2E's training scale and offset,
    loaded but unused at inference)."""

    def __init__(self, hidden: int = 256, layers: int = 3, dim: int = 256) -> None:
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, hidden, layers, batch_first=True)
        self.linear = nn.Linear(hidden, dim)
        self.similarity_weight = nn.Parameter(torch.tensor([10.0]))
        self.similarity_bias = nn.Parameter(torch.tensor([-5.0]))

    @classmethod
    def from_pretrained(cls, path: Path | None = None) -> "GE2EEncoder":
        """The encoder with the weights bundled in the installed ``resemblyzer`` wheel (or
        ``path``, a checkpoint of the same format), loaded strictly, in eval mode."""
        path = Path(path) if path is not None else bundled_weights()
        model = cls()
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(checkpoint["model_state"], strict=True)
        except (RuntimeError, KeyError, TypeError, EOFError, OSError, pickle.UnpicklingError) as exc:
            raise ModelCorrupt(f"The speaker encoder's weights {path} do not load ({exc}); "
                               "reinstall resemblyzer.") from exc
        return model.eval()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        """(batch, frames, 40) mel power → (batch, 256) unit-norm embeddings."""
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-12)

    @torch.inference_mode()
    def embed(self, wav: np.ndarray) -> np.ndarray:
        """Embedding of prepared 16 kHz speech (see :func:`prepare`): float32 (256,), norm 1."""
        slices = partial_slices(len(wav))
        need = slices[-1] * HOP + PARTIAL_FRAMES * HOP
        if need >= len(wav):
            wav = np.pad(wav, (0, need - len(wav)))
        mel = mel_frames(wav)
        mels = np.stack([mel[s:s + PARTIAL_FRAMES] for s in slices])
        partials = self(torch.from_numpy(mels)).numpy()
        mean = partials.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)


def bundled_weights() -> Path:
    """``pretrained.pt`` inside the installed ``resemblyzer`` package (found, not imported)."""
    spec = find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("resemblyzer (which ships the speaker encoder's weights) is not "
                                "installed: `pip install resemblyzer`.")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise EngineUnavailable(f"The speaker encoder's weights are missing: {path}; reinstall "
                                "resemblyzer.")
    return path


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """Centred mel power frames of 16 kHz speech: (1 + len // 160, 40) float32."""
    padded = np.pad(np.asarray(wav, np.float32), WINDOW // 2)
    return power_mel(padded, SAMPLE_RATE, WINDOW, WINDOW, HOP, N_MELS, window="hann")


def partial_slices(n_samples: int) -> list[int]:
    """First mel frame of each partial utterance of ``n_samples`` of speech (at least one; the
    last is dropped when less than :data:`MIN_COVERAGE` of it is speech)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round(SAMPLE_RATE / PARTIAL_RATE / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    last = starts[-1] * HOP
    coverage = (n_samples - last) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def prepare(wav: np.ndarray) -> np.ndarray:
    """16 kHz float speech raised to :data:`TARGET_DBFS` (never lowered) and with long
    silences cut (see :func:`voiced_mask`)."""
    wav = np.asarray(wav, np.float64)
    rms = np.sqrt(np.mean(wav ** 2)) if len(wav) else 0.0
    if rms > 0:
        gain_db = TARGET_DBFS - 20 * np.log10(rms)
        if gain_db > 0:
            wav = wav * 10 ** (gain_db / 20)
    wav = wav[: len(wav) - len(wav) % VAD_WINDOW]
    return wav[np.repeat(voiced_mask(wav), VAD_WINDOW)].astype(np.float32)


def voiced_mask(wav: np.ndarray) -> np.ndarray:
    """Per 30 ms window of ``wav`` (a multiple of :data:`VAD_WINDOW` samples long), whether it
    is kept: WebRTC VAD (mode 3) flags, smoothed by a centred moving average over
    :data:`VAD_AVERAGE` windows and rounded, then widened by half of :data:`VAD_MAX_SILENCE`
    windows on each side (so pauses of up to that many windows are kept)."""
    import webrtcvad

    pcm = np.round(np.clip(wav, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    vad = webrtcvad.Vad(3)
    step = VAD_WINDOW * 2
    flags = np.array([vad.is_speech(pcm[i:i + step], SAMPLE_RATE)
                      for i in range(0, len(pcm), step)], dtype=float)
    if len(flags) == 0:
        return flags.astype(bool)
    padded = np.concatenate([np.zeros((VAD_AVERAGE - 1) // 2), flags, np.zeros(VAD_AVERAGE // 2)])
    sums = np.convolve(padded, np.ones(VAD_AVERAGE), mode="valid")
    kept = np.round(sums / VAD_AVERAGE).astype(bool)
    return np.convolve(kept.astype(float), np.ones(VAD_MAX_SILENCE + 1), mode="same") > 0
