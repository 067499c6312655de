"""Non-intrusive speech quality: DNSMOS (Microsoft DNS challenge MOS predictor, ONNX).

Scores are MOS estimates on 1..5: ``sig`` speech signal, ``bak`` background noise (higher is
cleaner), ``ovrl`` overall, ``p808`` the ITU-T P.808 overall model. DNSMOS judges noise and
distortion, not speaker identity or intelligibility.
"""

from __future__ import annotations

import threading

import numpy as np

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import AudioError, EngineUnavailable

DNSMOS_SR = 16000
_KEYS = {"ovrl_mos": "ovrl", "sig_mos": "sig", "bak_mos": "bak", "p808_mos": "p808"}
_lock = threading.Lock()


def _speechmos_dnsmos():
    """The ``speechmos.dnsmos`` module (it keeps its ONNX sessions cached per process)."""
    try:
        from speechmos import dnsmos
    except ImportError as exc:
        raise EngineUnavailable("DNSMOS needs the speechmos package: "
                                "`pip install speechmos onnxruntime` (or `pip install "
                                "'voxclone[eval]'`).") from exc
    return dnsmos


def dnsmos(audio: Audio) -> dict[str, float]:
    """DNSMOS scores of one clip: ``{"ovrl", "sig", "bak", "p808"}``, MOS scale (nominally 1..5).

    Any sample rate (resampled to 16 kHz); clips shorter than 9 s are looped to 9 s by the
    model's own preprocessing, longer ones are scored in 9 s windows with a 1 s hop and averaged.
    """
    if len(audio) == 0:
        raise AudioError("Cannot score an empty clip with DNSMOS: pass audio with samples.")
    x = np.clip(resample(audio, DNSMOS_SR).samples, -1.0, 1.0).astype(np.float32)
    module = _speechmos_dnsmos()
    with _lock:  # speechmos keeps one shared model object and builds it on first use
        scores = module.run(x, sr=DNSMOS_SR)
    return {ours: float(scores[theirs]) for theirs, ours in _KEYS.items() if theirs in scores}
