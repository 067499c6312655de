"""One PNG per output: waveform, spectrogram and pitch track."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voxclone.audio.f0 import extract_f0
from voxclone.audio.types import Audio


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_audio_plot(audio: Audio, path: Path, title: str = "") -> Path:
    """Write waveform, log spectrogram (dB) and F0 (Hz, voiced frames) of ``audio`` to ``path``."""
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(8, 6), sharex=True)
    t = np.arange(len(audio)) / audio.sample_rate
    axes[0].plot(t, audio.samples, linewidth=0.5, color="tab:blue")
    axes[0].set_ylabel("amplitude")
    axes[0].set_ylim(-1, 1)
    axes[1].specgram(audio.samples + 1e-9, NFFT=512, Fs=audio.sample_rate, noverlap=384,
                     cmap="magma", scale="dB")
    axes[1].set_ylabel("Hz")
    f0, times = extract_f0(audio, "dio")
    voiced = np.where(f0 > 0, f0, np.nan)
    axes[2].plot(times, voiced, ".", markersize=2, color="tab:red")
    axes[2].set_ylabel("F0 (Hz)")
    axes[2].set_xlabel("time (s)")
    axes[2].set_xlim(0, audio.duration)
    if title:
        axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
