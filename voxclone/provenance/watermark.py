"""The inaudible watermark on every synthetic output: Perth-Net's implicit mark.

``embed`` resamples to the network's 32 kHz (soxr), adds the mark in the STFT magnitude under
2 kHz, and adds back only the difference at the audio's own rate (so content above 16 kHz of a
44.1/48 kHz output is untouched). ``detect`` reads one confidence in [0, 1]; at or over 0.5
the audio is watermarked (clean speech reads ~0.1, marked ~1.0). Long audio is handled in
windows of ``WINDOW_S`` seconds.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.errors import AudioError, InvalidSetting
from voxclone.provenance.perth_net import (AudioProcessor, PerthNet, branch_sizes, bundled_checkpoint,
                                           combine_branches, magmask, read_hparams, stretch)
from voxclone.provenance.perth_onnx import StackRunner
from voxclone.provenance.record import WATERMARK_NAME

THRESHOLD = 0.5
WINDOW_S = 30.0
OVERLAP_S = 1.0
MIN_DETECT_S = 0.5
GRAPH_FORMAT = 1
"""Version of the exported graphs' layout (part of their cache key)."""


@dataclass(frozen=True)
class Detection:
    """What :meth:`Watermarker.detect` read: confidence in [0, 1] (mean over windows, weighted
    by their length), watermarked (confidence >= threshold), the seconds read and per-window
    confidences."""

    confidence: float
    watermarked: bool
    threshold: float
    seconds: float
    windows: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return {**asdict(self), "windows": list(self.windows), "watermark": WATERMARK_NAME}


class Watermarker:
    """Perth-Net embed/detect. backend: "onnx" (ONNX Runtime, ``threads`` threads) or "torch".

    strength: factor in (0, 1] on the mark ``embed`` adds (the network's difference, marked
    minus original, times ``strength``; amplitude, so 0.5 lowers the mark by ~6 dB); detection
    is unchanged.
    model: a loaded :class:`PerthNet` (its stacks are exported in memory); None: the bundled
    checkpoint, whose exported graphs are cached under ``VOXCLONE_HOME/cache/perth`` (later
    starts then load neither the checkpoint nor the ``onnx`` package).
    """

    def __init__(self, model: PerthNet | None = None, backend: str = "onnx", threads: int = 1,
                 strength: float = 1.0) -> None:
        if backend not in ("onnx", "torch"):
            raise ValueError(f"backend={backend!r}: use 'onnx' or 'torch'.")
        if not (np.isfinite(strength) and 0.0 < strength <= 1.0):
            raise InvalidSetting(f"Watermark strength {strength!r} is out of range: use a factor "
                                 "over 0 and at most 1 (1 is the network's full mark).")
        self.backend, self.threads, self.strength = backend, threads, float(strength)
        self._enc = self._dec = None
        if backend == "torch" or model is not None:
            self.model = model or PerthNet.from_pretrained()
        else:
            self.model = None
            enc, dec = _cached_graphs()
            self._enc, self._dec = StackRunner(enc, threads), StackRunner(dec, threads)
        if self.model is not None and backend == "onnx":
            self._enc, self._dec = (StackRunner(s, threads) for s in _stacks(self.model))
        self.hp = self.model.hp if self.model is not None else read_hparams(bundled_checkpoint())
        self.ap = self.model.ap if self.model is not None else AudioProcessor(self.hp)

    # --- embedding ---------------------------------------------------------------------------
    def embed(self, audio: Audio) -> Audio:
        """``audio`` with the mark added (times ``strength``); same length and sample rate.
        Digital silence is returned as it is: the mark hides under the signal's magnitude, so
        there it would be rounding noise of the STFT (~1e-12) only."""
        if len(audio) == 0 or not np.any(audio.samples):
            return audio
        x32 = resample(audio, self.hp.sample_rate).samples
        wm32 = np.empty_like(x32)
        for start, stop, seg in self._segments(x32):
            wm32[start:stop] = seg
        delta = resample(Audio(wm32 - x32, self.hp.sample_rate), audio.sample_rate).samples
        n = len(audio)
        delta = np.pad(delta[:n], (0, max(0, n - len(delta)))) * np.float32(self.strength)
        return Audio((audio.samples + delta).astype(np.float32), audio.sample_rate)

    def _segments(self, x: np.ndarray):
        """Yield (start, stop, marked samples) covering ``x``, windows cross-faded."""
        win, ov = int(WINDOW_S * self.hp.sample_rate), int(OVERLAP_S * self.hp.sample_rate)
        if len(x) <= win:
            yield 0, len(x), self.embed_32k(x)
            return
        out = np.zeros_like(x)
        weight = np.zeros_like(x)
        ramp = np.linspace(0.0, 1.0, ov, dtype=np.float32)
        for start in range(0, len(x) - ov, win - ov):
            stop = min(start + win, len(x))
            seg = self.embed_32k(x[start:stop])
            w = np.ones(stop - start, np.float32)
            if start > 0:
                w[:ov] = ramp
            if stop < len(x):
                w[-ov:] = np.minimum(w[-ov:], ramp[::-1])
            out[start:stop] += seg * w
            weight[start:stop] += w
        yield 0, len(x), out / np.maximum(weight, 1e-6)

    def embed_32k(self, x: np.ndarray) -> np.ndarray:
        """Mark samples at the network's rate: (N,) float32 → (N,) float32."""
        n = len(x)
        pad = max(0, self.hp.n_fft - n)
        sig = torch.from_numpy(np.pad(x, (0, pad)).astype(np.float32))
        with torch.inference_mode():
            mag, phase = self.ap.signal_to_magphase(sig)
            mag = mag[None]
            res = self._encode(mag[:, :self.hp.subband]) * magmask(mag)[:, None]
            marked = torch.cat([mag[:, :self.hp.subband] + res, mag[:, self.hp.subband:]], dim=1)
            out = self.ap.magphase_to_signal(marked[0], phase, length=len(sig))
        return out.numpy()[:n]

    def _encode(self, sub: torch.Tensor) -> torch.Tensor:
        if self._enc is None:
            return self.model.encoder.layers(sub)  # type: ignore[union-attr]
        return torch.from_numpy(self._enc({"enc": sub.numpy()})["enc"])

    # --- detection ---------------------------------------------------------------------------
    def detect(self, audio: Audio) -> Detection:
        """Read the mark; AudioError when there is too little audio to read it from."""
        if audio.duration < MIN_DETECT_S:
            raise AudioError(f"Audio of {audio.duration:.2f} s is too short to read a watermark "
                             f"from: it needs at least {MIN_DETECT_S} s.")
        x32 = resample(audio, self.hp.sample_rate).samples
        win = int(WINDOW_S * self.hp.sample_rate)
        bounds = list(range(0, len(x32), win))
        if len(bounds) > 1 and len(x32) - bounds[-1] < win // 4:
            bounds.pop()  # a short tail joins the window before it
        values, lengths = [], []
        for i, start in enumerate(bounds):
            stop = bounds[i + 1] if i + 1 < len(bounds) else len(x32)
            values.append(self.confidence_32k(x32[start:stop]))
            lengths.append(stop - start)
        conf = float(np.average(values, weights=lengths))
        return Detection(round(conf, 4), conf >= THRESHOLD, THRESHOLD, round(audio.duration, 3),
                         tuple(round(v, 4) for v in values))

    def confidence_32k(self, x: np.ndarray) -> float:
        """Unrounded detector output in [0, 1] for samples at the network's rate (0 for audio
        with no frame above the loudness mask, e.g. digital silence)."""
        sig = torch.from_numpy(np.asarray(x, np.float32))
        with torch.inference_mode():
            mag = self.ap.signal_to_magphase(sig)[0][None]
            mask = magmask(mag)[:, None]
            if float(mask.sum()) == 0:
                return 0.0
            sub = mag[:, :self.hp.subband]
            slow, _, fast = branch_sizes(sub.size(2))
            ins = {"slow": stretch(sub, slow), "normal": sub, "fast": stretch(sub, fast)}
            outs = self._decode(ins)
            value = combine_branches([outs["slow"], outs["normal"], outs["fast"]], mask)
        value = float(value.clamp(0.0, 1.0)[0])
        return value if np.isfinite(value) else 0.0

    def _decode(self, ins: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self._dec is None:
            dec = self.model.decoder  # type: ignore[union-attr]
            layers = {"slow": dec.slow_layers, "normal": dec.normal_layers, "fast": dec.fast_layers}
            return {k: layers[k](v) for k, v in ins.items()}
        outs = self._dec({k: v.numpy() for k, v in ins.items()})
        return {k: torch.from_numpy(v) for k, v in outs.items()}


def _stacks(model: PerthNet) -> tuple[dict, dict]:
    """The encoder's and the decoder's conv stacks, named as the exported graphs name them."""
    dec = model.decoder
    return ({"enc": model.encoder.layers},
            {"slow": dec.slow_layers, "normal": dec.normal_layers, "fast": dec.fast_layers})


def _cached_graphs() -> tuple[Path, Path]:
    """Exported encoder and decoder graphs of the bundled checkpoint (made once, then cached;
    the key is the installed package's version, the checkpoint's name and size and the export
    format, so a reinstall of the same package finds them without reading the 37 MB file; graphs
    of other keys are removed when new ones are written)."""
    path = bundled_checkpoint()
    key = hashlib.sha256(f"{_package_version()}|{path.name}|{path.stat().st_size}|{GRAPH_FORMAT}"
                         .encode()).hexdigest()[:16]
    folder = Settings().cache_dir / "perth"
    enc, dec = folder / f"perth-encoder-{key}.onnx", folder / f"perth-decoder-{key}.onnx"
    if not (enc.is_file() and dec.is_file()):
        from voxclone.provenance.perth_onnx import write_onnx

        stacks = _stacks(PerthNet.from_pretrained(path))
        write_onnx(stacks[0], enc)
        write_onnx(stacks[1], dec)
        for old in folder.glob("perth-*.onnx"):
            if old not in (enc, dec):
                old.unlink(missing_ok=True)
    return enc, dec


def _package_version() -> str:
    """Version of the installed ``resemble-perth`` distribution ("" when it has no metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("resemble-perth")
    except PackageNotFoundError:
        return ""


@functools.lru_cache(maxsize=4)
def watermarker(backend: str = "onnx", threads: int = 1) -> Watermarker:
    """One shared watermarker per process (built on first use, ~1 s)."""
    return Watermarker(backend=backend, threads=threads)


def embed(audio: Audio) -> Audio:
    """``audio`` marked with the shared watermarker."""
    return watermarker().embed(audio)


def detect(audio: Audio) -> Detection:
    """Read the mark with the shared watermarker."""
    return watermarker().detect(audio)
