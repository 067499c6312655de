"""Detection of gross synthesis failures: silence, clipping, looping, noise, wrong length.

Every threshold is a module constant; the values were chosen on real speech (LibriSpeech,
VCTK, LJ Speech, CMU ARCTIC, multilingual clips) and espeak-ng output, none of which trips a
flag, against synthetic failures (digital silence, clipped tones, a clip repeated five
times, white/pink/brown noise), which all do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from voxclone.audio.dsp import resample, rms_db
from voxclone.audio.types import Audio
from voxclone.audio.vad import speech_seconds

ANALYSIS_SR = 16000
FRAME = 400  # 25 ms analysis window at ANALYSIS_SR
HOP = 160  # 10 ms hop at ANALYSIS_SR

# silence: the whole clip is quieter than this, or holds less speech than this
SILENCE_DB = -60.0
MIN_SPEECH_S = 0.1
# clipping: this share of samples at |x| >= CLIP_LEVEL, or this many flat tops at the peak
CLIP_LEVEL = 0.99
CLIP_FRACTION = 0.001
FLAT_RUN = 3  # samples in a row holding exactly the peak value form one flat top
FLAT_TOPS = 3
FLAT_MIN_PEAK = 0.25  # quieter clips are not checked for flat tops
# looping: at one lag of LOOP_MIN_LAG_S..LOOP_MAX_LAG_S, at least LOOP_MIN_REPEAT_S seconds of
# speech match the speech one lag later (MFCC cosine, smoothed over LOOP_SMOOTH_S, above
# LOOP_SIMILARITY, in runs of LOOP_MIN_SEGMENT_S or longer)
LOOP_SIMILARITY = 0.8
LOOP_SMOOTH_S = 0.2
LOOP_MIN_SEGMENT_S = 0.2
LOOP_MIN_REPEAT_S = 1.5
LOOP_MIN_LAG_S = 0.5
LOOP_MAX_LAG_S = 30.0
# noise only: few periodic (voiced) frames and either a flat spectrum or a steady level
VOICED_YIN = 0.3  # YIN aperiodicity (60-400 Hz lags) below which a frame is voiced
NOISE_MAX_VOICED = 0.05
NOISE_BAND_HZ = 100.0  # flatness and modulation ignore rumble below this
NOISE_FLATNESS = 0.3
NOISE_MAX_MODULATION_DB = 3.0
# duration: actual / expected outside this range
DURATION_RANGE = (0.5, 2.0)

FLAGS = ("silence", "clipping", "looping", "noise_only", "duration_off")


@dataclass(frozen=True)
class FailureReport:
    """Failure flags of one clip, with the numbers behind them.

    duration_s, speech_s: seconds; rms_db: dBFS; clipped_fraction: share of samples at
    |x| >= CLIP_LEVEL; flat_tops: runs of FLAT_RUN+ samples at the peak; repeated_s: seconds of
    speech that recur one loop_lag_s (s) later; spectral_flatness: median over active frames
    (0 tonal .. 1 white); voiced_fraction: share of active frames that are periodic;
    modulation_db: standard deviation of the active frames' level (dB). The numbers after
    silence checks are 0 for a silent clip.
    """

    silence: bool
    clipping: bool
    looping: bool
    noise_only: bool
    duration_off: bool
    duration_s: float
    expected_duration_s: float | None
    rms_db: float
    speech_s: float
    clipped_fraction: float
    flat_tops: int
    repeated_s: float
    loop_lag_s: float
    spectral_flatness: float
    voiced_fraction: float
    modulation_db: float

    def flags(self) -> list[str]:
        """Names of the raised flags, e.g. ``["clipping", "looping"]``; empty when clean."""
        return [name for name in FLAGS if getattr(self, name)]

    @property
    def ok(self) -> bool:
        """True when no flag is raised."""
        return not self.flags()

    def to_dict(self) -> dict:
        """Plain dict of every field plus ``flags`` (for JSON reports)."""
        return {**asdict(self), "flags": self.flags()}


def detect_failures(audio: Audio, expected_duration_s: float | None = None) -> FailureReport:
    """Check one clip for silence, clipping, looping, noise-only content and a wrong length.

    ``expected_duration_s``: the length the clip should have (e.g. from the text); the
    duration check is skipped when None.
    """
    level = rms_db(audio)
    speech = speech_seconds(audio) if len(audio) else 0.0
    silent = level < SILENCE_DB or speech < MIN_SPEECH_S
    clipped, flat = clipping_stats(audio.samples)
    x = resample(audio, ANALYSIS_SR).samples.astype(np.float64)
    frames, active = _frames(x)
    repeated, lag_s = (0.0, 0.0) if silent else loop_stats(frames, active)
    flatness, voiced, modulation = (0.0, 0.0, 0.0) if silent else noise_stats(x, frames, active)
    noise = not silent and voiced < NOISE_MAX_VOICED and (
        flatness > NOISE_FLATNESS or modulation < NOISE_MAX_MODULATION_DB)
    return FailureReport(
        silence=bool(silent), clipping=clipped >= CLIP_FRACTION or flat >= FLAT_TOPS,
        looping=repeated >= LOOP_MIN_REPEAT_S, noise_only=bool(noise),
        duration_off=_duration_off(audio.duration, expected_duration_s),
        duration_s=audio.duration, expected_duration_s=expected_duration_s, rms_db=float(level),
        speech_s=speech, clipped_fraction=clipped, flat_tops=flat, repeated_s=repeated,
        loop_lag_s=lag_s, spectral_flatness=flatness, voiced_fraction=voiced,
        modulation_db=modulation)


def _duration_off(actual_s: float, expected_s: float | None) -> bool:
    """True when ``expected_s`` is given and ``actual_s`` lies outside DURATION_RANGE of it."""
    if expected_s is None:
        return False
    lo, hi = DURATION_RANGE
    return not lo * expected_s <= actual_s <= hi * expected_s


def clipping_stats(x: np.ndarray) -> tuple[float, int]:
    """Share of samples at |x| >= CLIP_LEVEL and the number of flat tops at the peak value."""
    if len(x) == 0:
        return 0.0, 0
    mag = np.abs(x)
    fraction = float(np.mean(mag >= CLIP_LEVEL))
    peak = float(mag.max())
    if peak < FLAT_MIN_PEAK:
        return fraction, 0
    at_peak = np.concatenate([[0], (mag == peak).astype(np.int8), [0]])
    edges = np.diff(at_peak)
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return fraction, int(np.sum(lengths >= FLAT_RUN))


def _frames(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windowed frames (n, FRAME) of 16 kHz samples and a mask (n,) of active (loud) frames."""
    if len(x) < FRAME:
        x = np.pad(x, (0, FRAME - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP]
    db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    active = db > max(SILENCE_DB, np.percentile(db, 95) - 30.0)
    return frames * np.hanning(FRAME), active


def _mel_filterbank(n_mels: int = 40, n_fft: int = 512, sr: int = ANALYSIS_SR) -> np.ndarray:
    """Triangular mel filters, shape (n_mels, n_fft // 2 + 1)."""
    mel = np.linspace(0.0, 2595.0 * np.log10(1.0 + (sr / 2) / 700.0), n_mels + 2)
    hz = 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    up = (bins - lo) / (mid - lo)
    down = (hi - bins) / (hi - mid)
    return np.maximum(0.0, np.minimum(up, down))


def mfcc(frames: np.ndarray, n_coeffs: int = 20) -> np.ndarray:
    """MFCCs 1..n_coeffs-1 (c0 dropped) of windowed frames, shape (n, n_coeffs - 1)."""
    from scipy.fft import dct

    power = np.abs(np.fft.rfft(frames, 512, axis=1)) ** 2
    logmel = np.log(power @ _mel_filterbank().T + 1e-10)
    return dct(logmel, type=2, norm="ortho", axis=1)[:, 1:n_coeffs]


def loop_stats(frames: np.ndarray, active: np.ndarray) -> tuple[float, float]:
    """Seconds of speech that repeat at one lag, and that lag (s), for the most repeated lag.

    For every lag in LOOP_MIN_LAG_S..LOOP_MAX_LAG_S the cosine similarity of mean-normalised
    MFCC frame pairs is averaged over LOOP_SMOOTH_S; runs of matching speech pairs of at least
    LOOP_MIN_SEGMENT_S are summed (pause-pause pairs are skipped, a pause facing speech ends a
    run).
    """
    if active.sum() < 2:
        return 0.0, 0.0
    feats = mfcc(frames)
    feats = feats - feats[active].mean(axis=0)
    feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
    fps = ANALYSIS_SR / HOP
    win = np.ones(max(1, int(LOOP_SMOOTH_S * fps)))
    min_seg, min_overlap = int(LOOP_MIN_SEGMENT_S * fps), int(LOOP_MIN_REPEAT_S * fps)
    best, best_lag = 0, 0
    last_lag = min(int(LOOP_MAX_LAG_S * fps), len(feats) - min_overlap)
    for lag in range(int(LOOP_MIN_LAG_S * fps), last_lag + 1):
        if len(feats) - lag <= best:
            break
        both = active[:-lag] & active[lag:]
        sim = np.where(both, np.einsum("ij,ij->i", feats[:-lag], feats[lag:]), 0.0)
        smooth = np.convolve(sim, win, "same") / np.maximum(np.convolve(both, win, "same"), 1.0)
        runs = _runs((smooth > LOOP_SIMILARITY) & both, active[:-lag] | active[lag:])
        total = int(runs[runs >= min_seg].sum())
        if total > best:
            best, best_lag = total, lag
    return best / fps, best_lag / fps


def _runs(hit: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in ``hit[keep]``, shape (n_runs,)."""
    h = hit[keep].astype(np.int8)
    edges = np.diff(np.concatenate([[0], h, [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def noise_stats(x: np.ndarray, frames: np.ndarray, active: np.ndarray) -> tuple[float, float, float]:
    """Median spectral flatness, voiced share and level modulation (dB) of the active frames.

    x: 16 kHz samples (n,); frames, active: from ``_frames``.
    """
    use = active if active.any() else np.ones(len(frames), dtype=bool)
    power = np.abs(np.fft.rfft(frames[use], 512, axis=1)) ** 2 + 1e-12
    power = power[:, int(NOISE_BAND_HZ * 512 / ANALYSIS_SR):]
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    db = 10.0 * np.log10(np.sum(power, axis=1))
    voiced = yin_aperiodicity(x, len(frames))[use] < VOICED_YIN
    return float(np.median(flatness)), float(np.mean(voiced)), float(np.std(db))


def yin_aperiodicity(x: np.ndarray, n_frames: int) -> np.ndarray:
    """Minimum YIN cumulative-mean-normalised difference over 60-400 Hz lags, shape (n_frames,).

    Near 0 for periodic (voiced) frames, near 1 for noise; frames start every HOP samples.
    """
    lo, hi = ANALYSIS_SR // 400, ANALYSIS_SR // 60
    padded = np.pad(x, (0, FRAME + hi))
    frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME + hi)[::HOP][:n_frames]
    nfft = 2 * (FRAME + hi)
    cross = np.fft.irfft(np.conj(np.fft.rfft(frames[:, :FRAME], nfft)) * np.fft.rfft(frames, nfft),
                         nfft)[:, : hi + 1]
    cs = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
    energy = cs[:, FRAME : FRAME + hi + 1] - cs[:, : hi + 1]
    diff = np.maximum(energy[:, :1] + energy - 2.0 * cross, 0.0)[:, 1:]
    lags = np.arange(1, hi + 1)
    cmnd = diff * lags / np.maximum(np.cumsum(diff, axis=1), 1e-12)
    return np.min(cmnd[:, lo - 1 :], axis=1)
