"""Choosing the base TTS voice that converts best toward a target speaker."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from voxclone.audio.f0 import extract_f0, log_f0_stats
from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.audio.types import Audio
from voxclone.convert.base import Converter, ConvertSettings
from voxclone.convert.world import WorldConverter
from voxclone.pipeline.cache_files import write_json
from voxclone.tts.base import TTSEngine
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)

PROBE_TEXT = {
    "en": "Please call Stella and ask her to bring these things with her from the store.",
    "es": "Por favor, llama a Estela y pídele que traiga estas cosas de la tienda.",
    "fr": "S'il te plaît, appelle Stella et demande-lui d'apporter ces choses du magasin.",
    "zh": "请叫斯特拉从商店带这些东西来，我们在家里等她。",
    "ja": "ステラに電話して、お店からこれらの物を持ってくるように頼んでください。",
    "ko": "스텔라에게 전화해서 가게에서 이 물건들을 가져오라고 부탁하세요.",
}
RANKING_VERSION = 2


@dataclass(frozen=True)
class RankedVoice:
    """A base voice and how close its converted probe sentence came to the target (cosine)."""

    voice: str
    score: float


def rank_base_voices(tts: TTSEngine, converter: Converter | None, profile: VoiceProfile,
                     lang: str, cache_dir: Path | None = None, pool: int = 6) -> list[RankedVoice]:
    """The ``pool`` base voices of ``lang`` whose pitch is closest to the target's, best first,
    scored by the speaker encoder after conversion.

    Each voice speaks a probe sentence, which is converted to the target (when a converter is
    given) and compared with the profile's embedding. Cached on disk per profile and engines.
    """
    path = _cache_path(cache_dir, tts, converter, profile, lang, pool)
    if path is not None and path.exists():
        try:
            return [RankedVoice(**r) for r in json.loads(path.read_text())]
        except (ValueError, TypeError):
            log.warning("ignoring unreadable base-voice cache %s", path)
    ranked = _score_all(tts, converter, profile, lang, pool)
    if path is not None:
        write_json(path, [r.__dict__ for r in ranked])
    return ranked


def _score_all(tts: TTSEngine, converter: Converter | None, profile: VoiceProfile,
               lang: str, pool: int) -> list[RankedVoice]:
    encoder = speaker_encoder()
    if getattr(converter, "adapts_to_base_voice", False):  # no voice is adapted before it is chosen:
        converter = WorldConverter(converter.config)  # type: ignore[union-attr]  rank by its WORLD map
    text = PROBE_TEXT.get(lang, PROBE_TEXT["en"])
    settings = ConvertSettings(f0_method="dio")
    probes = {v.id: tts.synthesize(text, lang, v.id) for v in tts.voices(lang)}
    scores = []
    for voice_id in _closest_pitch(probes, profile.lf0_mean, pool):
        audio = probes[voice_id]
        if converter is not None:
            audio = converter.convert(audio, profile.features, settings)
        scores.append(RankedVoice(voice_id, cosine(encoder.embed(audio), profile.embedding_array)))
    return sorted(scores, key=lambda r: -r.score)


def _closest_pitch(probes: dict[str, Audio], target_lf0: float, pool: int) -> list[str]:
    """Ids of the ``pool`` probes whose mean log-F0 is closest to ``target_lf0``."""
    if pool >= len(probes) or not math.isfinite(target_lf0):
        return list(probes)
    dist = {}
    for voice_id, audio in probes.items():
        mean, _ = log_f0_stats(extract_f0(audio, "dio")[0])
        dist[voice_id] = abs(mean - target_lf0) if math.isfinite(mean) else math.inf
    return sorted(probes, key=lambda v: dist[v])[:pool]


def _cache_path(cache_dir: Path | None, tts: TTSEngine, converter: Converter | None,
                profile: VoiceProfile, lang: str, pool: int) -> Path | None:
    if cache_dir is None:
        return None
    tts_version = getattr(tts, "version", lambda: "")()
    key = json.dumps([RANKING_VERSION, tts.name, tts_version, converter.version if converter else "",
                      profile.clip_hashes, lang, pool])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return cache_dir / "base-voices" / f"{digest}.json"

