"""DSP tone-colour conversion with WORLD: log-F0 mapping + class-wise mel-cepstral mean/variance."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace

import numpy as np
import pyworld

from voxclone.audio.dsp import match_loudness, resample, rms_db
from voxclone.audio.f0 import F0Method, extract_f0, log_f0_stats
from voxclone.audio.mcep import mc2sp, sp2mc
from voxclone.audio.speaker import closest_to, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.convert.base import ConvertSettings, Features, register_converter
from voxclone.convert.dynamics import energy_spread, spread_ratio, with_dynamics, with_order_spread
from voxclone.convert.spectral_classes import fit_classes, map_classes
from voxclone.convert.warp import WARP_CHOICE_SECONDS, warp
from voxclone.errors import AudioError, InvalidSetting
from voxclone.timing import StageTimer, maybe_stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorldConfig:
    """Analysis settings (changing any of them changes ``WorldConverter.version``).

    sample_rate: analysis/synthesis rate in Hz; frame_period_ms: hop; order: mel-cepstrum order;
    alpha: all-pass constant of the mel warp at ``sample_rate``; target_f0_method: extractor for enrolment clips;
    n_classes: acoustic classes of the voiced-frame map (0: one global mean/variance match);
    class_temperature: softness of the class assignment; class_shrink: frames of global
    statistics mixed into each class's source statistics.
    """

    sample_rate: int = 22050
    frame_period_ms: float = 5.0
    order: int = 34
    alpha: float = 0.455
    target_f0_method: F0Method = "harvest"
    n_classes: int = 8
    class_temperature: float = 2.0
    class_shrink: float = 30.0


MAX_PITCH_OFFSET = 2.0
"""Largest pitch offset (semitones) a converter may choose: on the dev set a speaker's clips'
mean F0 spreads by 0.8 semitones (standard deviation; ranges 0.9–3.5) about their own mean."""
PITCH_CHOICES = (-1.5, 0.0, 1.5)
"""The pitch offsets (semitones over the mapped pitch) ``knn`` and ``adapted`` choose from by
the speaker encoder, per utterance, on its first 8 s (README: +0.010 / +0.017 resemblyzer /
referee on the dev set's conversions, +0.012 / +0.016 on its cloned speech)."""

DEFAULT_DYNAMICS = False
"""Whether ``world`` and ``world-auto`` bring the frame energy's spread to the target's: off,
because it costs espeak-ng's speech words (dev set, librispeech-other + vctk: WER 0.458 against
0.317 without, 0.366 with the ratio clamped to 1.25; see the README). ``knn`` keeps it on
(:data:`~voxclone.convert.knn.KNN_DYNAMICS`)."""


@dataclass
class Analysis:
    """WORLD parameters of one utterance: f0 (T,), mcep (T, order+1), ap (T, fft//2+1), level."""

    f0: np.ndarray
    mcep: np.ndarray
    ap: np.ndarray
    speech: np.ndarray
    level_db: float


class WorldConverter:
    """WORLD analysis → F0 and spectral-envelope mapping toward the target → WORLD synthesis.

    The envelope map is a per-dimension mean/variance match of mel-cepstra (c0 kept), done
    separately for voiced and unvoiced frames, blended with the source by ``strength``. With
    ``dynamics`` the frame energy's spread over speech frames is brought to the target's
    (:mod:`voxclone.convert.dynamics`). With ``warps`` the source's formants are first moved by
    the frequency warp (:mod:`voxclone.convert.warp`) whose conversion the speaker encoder puts
    closest to the target's clips (``target["embedding"]``), chosen per utterance; with
    ``pitches`` the mapped pitch is then offset by the one of those semitones the encoder prefers
    (unless the call asks for a pitch shift of its own).
    """

    name = "world"

    def __init__(self, config: WorldConfig = WorldConfig(), dynamics: bool = DEFAULT_DYNAMICS,
                 warps: tuple[float, ...] = (), pitches: tuple[float, ...] = ()) -> None:
        self.config = config
        self.fft_size = pyworld.get_cheaptrick_fft_size(config.sample_rate, 71.0)
        key = "-".join(str(v) for v in asdict(config).values())
        self.version = f"world-3:{key}"
        self.voice_dynamics = dynamics
        if dynamics:
            self.version += ":dyn"
        self.warps = tuple(float(w) for w in warps)
        if any(abs(w) >= 0.5 for w in self.warps):
            raise InvalidSetting(f"warps={warps}: use all-pass constants between -0.5 and 0.5.")
        if self.warps:
            self.version += ":warp-" + "-".join(str(w) for w in self.warps)
        self.pitches = tuple(float(p) for p in pitches)
        if any(abs(p) > MAX_PITCH_OFFSET for p in self.pitches):
            raise InvalidSetting(f"pitches={pitches}: use offsets within ±{MAX_PITCH_OFFSET:g} "
                                 "semitones (a speaker's own utterances vary by about that much).")
        self.pitch_tag = (":pitch-" + "-".join(str(p) for p in self.pitches)) if self.pitches else ""
        """The part of ``version`` the pitch choice adds (empty without it)."""
        self.version += self.pitch_tag

    def analyze(self, audio: Audio, method: F0Method = "harvest",
                aperiodicity: bool = True) -> Analysis:
        """WORLD analysis at the configured rate; without ``aperiodicity`` (statistics only,
        never synthesised) ``ap`` is empty (T, 0) and D4C is not run."""
        cfg = self.config
        a = resample(audio, cfg.sample_rate)
        if a.duration < 0.1:
            raise AudioError("Audio is too short to convert (under 0.1 s).")
        x = a.samples.astype(np.float64)
        f0, t = extract_f0(a, method, cfg.frame_period_ms)
        sp = pyworld.cheaptrick(x, f0, t, cfg.sample_rate, fft_size=self.fft_size)
        ap = (pyworld.d4c(x, f0, t, cfg.sample_rate, fft_size=self.fft_size) if aperiodicity
              else np.zeros((len(f0), 0)))
        mcep = sp2mc(sp, order=cfg.order, alpha=cfg.alpha)
        speech = mcep[:, 0] > (np.percentile(mcep[:, 0], 95) - 6.0)  # within ~50 dB of the peak
        return Analysis(f0, mcep, ap, speech, rms_db(a))

    def features(self, clips: list[Audio]) -> Features:
        """Target statistics: log-F0 mean/std, mel-cepstral mean/std of voiced and unvoiced
        frames, and the acoustic classes of the voiced frames."""
        return self.with_embedding(self._features_of(
            [self.analyze(c, self.config.target_f0_method, False) for c in clips]), clips)

    def with_embedding(self, features: Features, clips: list[Audio]) -> Features:
        """``features`` plus the clips' speaker embedding (256 floats) where ``warps`` or
        ``pitches`` need it."""
        if self.warps or self.pitches:
            features["embedding"] = speaker_encoder().embed_many(clips).tolist()
        return features

    def _features_of(self, parts: list[Analysis]) -> Features:
        """:meth:`features` from the clips' analyses ``parts``."""
        out = self._stats(parts)
        voiced = np.concatenate([(p.f0 > 0) & p.speech for p in parts])
        frames = np.concatenate([p.mcep for p in parts])[voiced][:, 1:]
        if self.config.n_classes > 1:
            out["classes"] = fit_classes(frames, self.config.n_classes)
        return out

    def _stats(self, parts: list[Analysis]) -> Features:
        f0 = np.concatenate([p.f0 for p in parts])
        mcep = np.concatenate([p.mcep for p in parts])
        speech = np.concatenate([p.speech for p in parts])
        mean, std = log_f0_stats(f0)
        out: Features = {"lf0_mean": mean, "lf0_std": std,
                         "level_db": float(np.median([p.level_db for p in parts])),
                         "energy_spread": energy_spread(parts)}
        for cls, sel in (("voiced", (f0 > 0) & speech), ("unvoiced", (f0 == 0) & speech)):
            frames = mcep[sel] if sel.sum() >= 10 else mcep[speech]
            out[f"mc_mean_{cls}"] = frames.mean(axis=0).tolist()
            out[f"mc_std_{cls}"] = np.maximum(frames.std(axis=0), 1e-4).tolist()
        return out

    def convert(self, audio: Audio, target: Features, settings: ConvertSettings = ConvertSettings(),
                source: Features | None = None, timer: StageTimer | None = None) -> Audio:
        """``audio`` in the target's voice, at ``config.sample_rate``.

        ``timer`` collects the stages ``analysis``, ``conversion`` and ``synthesis``.
        """
        with maybe_stage(timer, "analysis"):
            an = self.analyze(audio, settings.f0_method)  # type: ignore[arg-type]
        an, source, settings = self.chosen_analysis(an, target, settings, source, timer)
        with maybe_stage(timer, "conversion"):
            src = source or self._stats([an])
            mcep = self.with_voice_dynamics(self.mapped_mcep(an, src, target, settings.strength),
                                            an, src, target, settings.strength)
        return self.synthesize(an, mcep, src, target, settings, timer)

    def chosen_analysis(self, an: Analysis, target: Features, settings: ConvertSettings,
                        source: Features | None = None, timer: StageTimer | None = None
                        ) -> tuple[Analysis, Features | None, ConvertSettings]:
        """``an`` warped as :meth:`warped_analysis` chooses, the source statistics to map it
        with, and ``settings`` with the pitch offset :meth:`pitched_settings` chooses; the warp's
        winning head conversion stands for the unshifted pitch candidate (it is the same audio)."""
        an, source, unshifted = self._warp_choice(an, target, settings, source, timer)
        if type(self)._choice_conversion is not WorldConverter._choice_conversion:
            unshifted = None  # the pitch choice compares another conversion than the warp's
        return an, source, self.pitched_settings(an, target, settings, source, timer, unshifted)

    def warped_analysis(self, an: Analysis, target: Features, settings: ConvertSettings,
                        source: Features | None = None,
                        timer: StageTimer | None = None) -> tuple[Analysis, Features | None]:
        """``an`` warped by the one of ``warps`` whose WORLD conversion of the utterance's first
        :data:`~voxclone.convert.warp.WARP_CHOICE_SECONDS` the speaker encoder puts closest to
        ``target["embedding"]``, and the source statistics to map it with (None: measure them
        on the warped frames). Unchanged without ``warps``, an embedding or strength."""
        return self._warp_choice(an, target, settings, source, timer)[:2]

    def _warp_choice(self, an: Analysis, target: Features, settings: ConvertSettings,
                     source: Features | None, timer: StageTimer | None
                     ) -> tuple[Analysis, Features | None, Audio | None]:
        """:meth:`warped_analysis`'s result and the winner's head conversion (None: no choice)."""
        if not self.warps or "embedding" not in target or settings.strength == 0.0:
            return an, source, None
        with maybe_stage(timer, "warp choice"):
            head = self._choice_head(an)
            goal = np.asarray(target["embedding"], dtype=np.float32)
            heads: dict[float, Audio] = {}

            def converted(beta: float) -> Audio:
                part = _warped(head, beta)
                src = source if beta == 0.0 and source else self._stats([part])
                heads[beta] = self._world_conversion(part, src, target, settings)
                return heads[beta]

            best, best_score = closest_to(goal, ((beta, converted(beta)) for beta in self.warps), 0.0)
        log.debug("warp %s chosen (cosine %.3f)", best, best_score)
        if best == 0.0:
            return an, source, heads.get(0.0)
        return _warped(an, best), None, heads[best]

    def pitched_settings(self, an: Analysis, target: Features, settings: ConvertSettings,
                         source: Features | None = None, timer: StageTimer | None = None,
                         unshifted: Audio | None = None) -> ConvertSettings:
        """``settings`` with the pitch offset of ``pitches`` whose conversion (by
        :meth:`_choice_conversion`) of the utterance's first
        :data:`~voxclone.convert.warp.WARP_CHOICE_SECONDS` (``an``, already warped) the speaker
        encoder puts closest to ``target["embedding"]``; ``unshifted``, when given, is that
        conversion at offset 0 already made. Unchanged without ``pitches``, an embedding or
        strength, or when ``settings`` shifts the pitch itself."""
        if (not self.pitches or "embedding" not in target or settings.strength == 0.0
                or settings.pitch_shift != 0.0):
            return settings
        with maybe_stage(timer, "pitch choice"):
            head = self._choice_head(an)
            src = source or self._stats([head])
            goal = np.asarray(target["embedding"], dtype=np.float32)

            def converted(p: float) -> Audio:
                if p == 0.0 and unshifted is not None:
                    return unshifted
                return self._choice_conversion(head, src, target, replace(settings, pitch_shift=p))

            best, best_score = closest_to(goal, ((p, converted(p)) for p in self.pitches), 0.0)
        log.debug("pitch offset %+g st chosen (cosine %.3f)", best, best_score)
        return replace(settings, pitch_shift=best)

    def _choice_head(self, an: Analysis) -> Analysis:
        """The utterance's first :data:`~voxclone.convert.warp.WARP_CHOICE_SECONDS`, which the
        warp and pitch choices convert."""
        return _head(an, round(WARP_CHOICE_SECONDS * 1000.0 / self.config.frame_period_ms))

    def _choice_conversion(self, an: Analysis, src: Features, target: Features,
                           settings: ConvertSettings) -> Audio:
        """The conversion of the utterance's head the pitch choice compares: WORLD's own here
        (cheap; a subclass whose own map is as cheap compares its own)."""
        return self._world_conversion(an, src, target, settings)

    def _world_conversion(self, an: Analysis, src: Features, target: Features,
                          settings: ConvertSettings) -> Audio:
        """WORLD's own conversion of ``an`` (its map, dynamics and synthesis, never a
        subclass's overrides): what the warp and pitch choices compare."""
        mcep = WorldConverter.with_voice_dynamics(
            self, WorldConverter.mapped_mcep(self, an, src, target, settings.strength),
            an, src, target, settings.strength)
        return WorldConverter.synthesize(self, an, mcep, src, target, settings)

    def with_voice_dynamics(self, mcep: np.ndarray, an: Analysis, src: Features, target: Features,
                            strength: float) -> np.ndarray:
        """``mcep`` (T, order+1) with c0's spread over ``an``'s speech frames scaled by the
        :meth:`dynamics_ratio`, at ``strength``; unchanged without ``dynamics``."""
        if not self.voice_dynamics:
            return mcep
        ratio = 1.0 + strength * (self.dynamics_ratio(an, src, target) - 1.0)
        return with_dynamics(mcep, an.speech, ratio)

    def dynamics_ratio(self, an: Analysis, src: Features, target: Features) -> float:
        """How much wider the voice's frame energy swings than the source's: the target's
        ``energy_spread`` over ``src``'s (else ``an``'s own); 1.0 without the target's."""
        if "energy_spread" not in target:
            return 1.0
        source = float(src.get("energy_spread", energy_spread([an])))
        return spread_ratio(float(target["energy_spread"]), source)

    def mapped_mcep(self, an: Analysis, src: Features, target: Features,
                    strength: float) -> np.ndarray:
        """Mel-cepstra (T, order+1) of ``an`` mapped toward ``target``; linear in ``strength``
        (``an.mcep + strength * (mapped - an.mcep)``)."""
        mcep = self._map_mcep(an, src, target, strength)
        self._map_voiced_classes(mcep, an, src, target, strength)
        return mcep

    @staticmethod
    def pulled_mcep(an: Analysis, mapped: np.ndarray, envelope: np.ndarray,
                    blend: float | np.ndarray, strength: float,
                    rows: np.ndarray | slice = slice(None), spread: bool = False) -> np.ndarray:
        """The mapped envelope ``mapped`` (T, order+1) with its c1.. pulled at ``blend`` (a
        number, or one per frame (T, 1)) toward ``envelope`` (T, order) on ``rows``, each
        order's spread then widened back to ``mapped``'s when ``spread``
        (:func:`~voxclone.convert.dynamics.with_order_spread`), applied to ``an`` at ``strength``."""
        mix = mapped.copy()
        weights = blend[rows] if isinstance(blend, np.ndarray) else blend
        mix[rows, 1:] += weights * (envelope[rows] - mapped[rows, 1:])
        if spread:
            mix = with_order_spread(mix, mapped, an)
        return an.mcep + strength * (mix - an.mcep)

    def synthesize(self, an: Analysis, mcep: np.ndarray, src: Features, target: Features,
                   settings: ConvertSettings, timer: StageTimer | None = None) -> Audio:
        """Speech from ``an``'s aperiodicity, the mapped F0 and the envelope ``mcep``."""
        cfg = self.config
        with maybe_stage(timer, "conversion"):
            f0 = self._map_f0(an.f0, src, target, settings)
            sp = mc2sp(mcep, alpha=cfg.alpha, fft_size=self.fft_size)
        with maybe_stage(timer, "synthesis"):
            y = pyworld.synthesize(f0, np.ascontiguousarray(sp), an.ap, cfg.sample_rate,
                                   cfg.frame_period_ms)
            out = Audio(y.astype(np.float32), cfg.sample_rate)
        return match_loudness(out, an.level_db)

    @staticmethod
    def _map_f0(f0: np.ndarray, src: Features, tgt: Features, s: ConvertSettings) -> np.ndarray:
        voiced = f0 > 0
        out = f0.copy()
        if not voiced.any():
            return out
        lf0 = np.log(f0[voiced])
        ms, ss = src["lf0_mean"], src["lf0_std"]
        mt, st = tgt["lf0_mean"], tgt["lf0_std"]
        if not np.isfinite(ms) or not np.isfinite(mt):
            mapped = lf0
        else:
            ratio = (st / ss) if ss > 1e-3 else 1.0
            mapped = (lf0 - ms) * ratio * s.energy + mt
            mapped = lf0 + s.strength * (mapped - lf0)
        out[voiced] = np.exp(mapped + s.pitch_shift * np.log(2.0) / 12.0)
        return out

    @staticmethod
    def _map_mcep(an: Analysis, src: Features, tgt: Features, strength: float) -> np.ndarray:
        out = an.mcep.copy()
        for cls, sel in (("voiced", an.f0 > 0), ("unvoiced", an.f0 == 0)):
            if not sel.any():
                continue
            ms, ss = np.asarray(src[f"mc_mean_{cls}"]), np.asarray(src[f"mc_std_{cls}"])
            mt, st = np.asarray(tgt[f"mc_mean_{cls}"]), np.asarray(tgt[f"mc_std_{cls}"])
            x = an.mcep[sel]
            y = (x - ms) / ss * st + mt
            y[:, 0] = x[:, 0]  # keep the source's frame energy
            out[sel] = x + strength * (y - x)
        return out

    def _map_voiced_classes(self, mcep: np.ndarray, an: Analysis, src: Features, tgt: Features,
                            strength: float) -> None:
        """Replace the voiced frames' mapping (c1..) in ``mcep`` by the class-wise one, in place."""
        classes = tgt.get("classes")
        voiced = an.f0 > 0
        if not classes or voiced.sum() < 2:
            return
        x = an.mcep[voiced][:, 1:]
        y = map_classes(x, np.asarray(src["mc_mean_voiced"])[1:], np.asarray(src["mc_std_voiced"])[1:],
                        classes, self.config.class_temperature, self.config.class_shrink)
        mcep[voiced, 1:] = x + strength * (y - x)


def _warped(an: Analysis, beta: float) -> Analysis:
    """``an`` with its envelope's frequency axis warped by ``beta`` (itself when 0)."""
    return an if beta == 0.0 else replace(an, mcep=warp(an.mcep, beta))


def _head(an: Analysis, frames: int) -> Analysis:
    """The first ``frames`` frames of ``an``."""
    return replace(an, f0=an.f0[:frames], mcep=an.mcep[:frames], ap=an.ap[:frames],
                   speech=an.speech[:frames])


register_converter("world", WorldConverter)
