"""WORLD-RVQ: an embedded codec that needs no download.

WORLD analysis at 24 kHz every 320 samples (75 Hz, the token rate of EnCodec 24 kHz); each frame
becomes a 45-dim vector [mel-cepstrum c0..c39, 10·log F0 (interpolated through unvoiced frames),
2·voicing, 0.1·coded band aperiodicity ×3], and residual vector quantisation (k-means codebooks
fitted on training audio) turns it into n_q codes. Decoding sums the codewords and runs WORLD.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pysptk
import pyworld

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.codeclm.kmeans import fit_rvq, rvq_decode, rvq_encode
from voxclone.errors import AudioError, ModelNotFound, ProfileVersionError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class WorldRVQConfig:
    """sample_rate: Hz; hop: samples per frame (320 at 24 kHz = 75 Hz); order: mel-cepstrum order;
    n_q: residual levels; n_codes: codes per level; f0_method: harvest (robust) or dio (fast);
    kmeans_iters: Lloyd iterations per level; seed: k-means init seed."""

    sample_rate: int = 24000
    hop: int = 320
    order: int = 39
    n_q: int = 8
    n_codes: int = 1024
    f0_method: str = "harvest"
    kmeans_iters: int = 20
    seed: int = 0


class WorldRVQCodec:
    """The WORLD-RVQ codec; build with :meth:`fit`, keep with :meth:`save` / :meth:`load`."""

    id = "world-rvq"

    def __init__(self, config: WorldRVQConfig, books: np.ndarray) -> None:
        self.config = config
        self.books = np.asarray(books, dtype=np.float64)  # (n_q, n_codes, 45)
        self.sample_rate = config.sample_rate
        self.hop = config.hop
        self.frame_rate = config.sample_rate / config.hop
        self.n_q, self.n_codes = int(self.books.shape[0]), int(self.books.shape[1])
        self.alpha = pysptk.util.mcepalpha(config.sample_rate)
        self.fft_size = pyworld.get_cheaptrick_fft_size(config.sample_rate)

    @property
    def frame_period_ms(self) -> float:
        return 1000.0 * self.hop / self.sample_rate

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        h.update(np.ascontiguousarray(self.books).tobytes())
        return h.hexdigest()[:16]

    @classmethod
    def fit(cls, clips: Iterable[Audio], config: WorldRVQConfig = WorldRVQConfig()) -> "WorldRVQCodec":
        """Fit the codebooks on ``clips`` (many speakers: a one-speaker codebook fails on others)."""
        probe = cls(config, np.zeros((config.n_q, config.n_codes, 45)))
        frames = np.concatenate([probe.features(c) for c in clips])
        if len(frames) < config.n_codes:
            raise AudioError(f"{len(frames)} frames are too few to fit {config.n_codes} codes: give "
                             f"more audio (≥ {config.n_codes / probe.frame_rate:.0f} s) or fewer codes.")
        return cls(config, fit_rvq(frames, config.n_q, config.n_codes, config.kmeans_iters, config.seed))

    def features(self, audio: Audio) -> np.ndarray:
        """Frame vectors (frames, 45), frames = samples // hop at ``sample_rate``."""
        a = resample(audio, self.sample_rate)
        n = len(a) // self.hop
        if n < 2:
            raise AudioError("Audio is too short to encode (under two codec frames).")
        x = a.samples.astype(np.float64)
        if self.config.f0_method == "dio":
            f0, t = pyworld.dio(x, self.sample_rate, frame_period=self.frame_period_ms)
            f0 = pyworld.stonemask(x, f0, t, self.sample_rate)
        else:
            f0, t = pyworld.harvest(x, self.sample_rate, f0_floor=60.0, f0_ceil=600.0,
                                    frame_period=self.frame_period_ms)
        f0, t = f0[:n], t[:n]
        sp = pyworld.cheaptrick(x, f0, t, self.sample_rate, fft_size=self.fft_size)
        ap = pyworld.d4c(x, f0, t, self.sample_rate, fft_size=self.fft_size)
        mcep = pysptk.sp2mc(sp, order=self.config.order, alpha=self.alpha)
        bap = pyworld.code_aperiodicity(ap, self.sample_rate)
        voiced = f0 > 0
        lf0 = _interp_log_f0(f0)
        return np.hstack([mcep, 10.0 * lf0[:, None], 2.0 * voiced[:, None], 0.1 * bap])

    def encode(self, audio: Audio) -> np.ndarray:
        """Tokens int64 [n_q, samples // hop]."""
        return rvq_encode(self.features(audio), self.books)

    def decode(self, codes: np.ndarray) -> Audio:
        """Audio of ``codes`` [n_q' <= n_q, frames]: frames × hop samples at 24 kHz."""
        codes = self._checked(codes)
        v = rvq_decode(codes, self.books)
        return self.synthesize(v, codes.shape[1])

    def synthesize(self, v: np.ndarray, frames: int) -> Audio:
        """WORLD synthesis of frame vectors ``v`` (frames, 45)."""
        order = self.config.order
        mcep = np.ascontiguousarray(v[:, : order + 1])
        voiced = v[:, order + 2] > 1.0
        f0 = np.where(voiced, np.exp(v[:, order + 1] / 10.0), 0.0)
        bap = np.ascontiguousarray(np.clip(v[:, order + 3:] / 0.1, -60.0, 0.0))
        sp = pysptk.mc2sp(mcep, alpha=self.alpha, fftlen=self.fft_size)
        ap = pyworld.decode_aperiodicity(bap, self.sample_rate, self.fft_size)
        y = pyworld.synthesize(f0, sp, np.clip(ap, 0.0, 1.0), self.sample_rate, self.frame_period_ms)
        n = frames * self.hop
        y = np.pad(y, (0, max(0, n - len(y))))[:n]
        return Audio(np.clip(y, -1.0, 1.0).astype(np.float32), self.sample_rate)

    def _checked(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[0] > self.n_q:
            raise AudioError(f"Codes must be [n_q <= {self.n_q}, frames], got {codes.shape}.")
        if codes.size and (codes.min() < 0 or codes.max() >= self.n_codes):
            raise AudioError(f"Codes must lie in [0, {self.n_codes}).")
        return codes.astype(np.int64)

    def save(self, folder: Path) -> None:
        """``codec.json`` + ``world_rvq.npy`` in ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "world_rvq.npy", self.books.astype(np.float64))
        meta = {"id": self.id, "version": FORMAT_VERSION, "config": asdict(self.config),
                "content_hash": self.content_hash}
        (folder / "codec.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path) -> "WorldRVQCodec":
        folder = Path(folder)
        meta = json.loads((folder / "codec.json").read_text())
        if meta.get("version") != FORMAT_VERSION:
            raise ProfileVersionError(f"{folder}/codec.json has format {meta.get('version')}; this "
                                      f"voxclone reads {FORMAT_VERSION}: refit the codec.")
        if not (folder / "world_rvq.npy").is_file():
            raise ModelNotFound(f"{folder}/world_rvq.npy is missing: refit the codec.")
        codec = cls(WorldRVQConfig(**meta["config"]), np.load(folder / "world_rvq.npy"))
        if codec.content_hash != meta["content_hash"]:
            raise ModelNotFound(f"{folder}: codebook hash mismatch (file changed): refit the codec.")
        return codec


def _interp_log_f0(f0: np.ndarray) -> np.ndarray:
    """log F0 with unvoiced frames filled by linear interpolation (a flat 100 Hz when none voiced)."""
    voiced = f0 > 0
    if not voiced.any():
        return np.full(len(f0), np.log(100.0))
    idx = np.arange(len(f0))
    return np.interp(idx, idx[voiced], np.log(f0[voiced]))


def mel_cepstral_distortion(ref: np.ndarray, test: np.ndarray) -> float:
    """MCD in dB between mel-cepstra (frames, order+1) of equal length, c0 excluded."""
    diff = ref[:, 1:] - test[:, 1:]
    return float(np.mean(10.0 / np.log(10.0) * np.sqrt(2.0 * np.sum(diff**2, axis=1))))
