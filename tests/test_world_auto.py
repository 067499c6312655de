"""voxclone.convert.world_auto: WORLD at the strength the speaker encoder prefers."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio import Audio
from voxclone.audio.speaker import cosine
from voxclone.convert import ConvertSettings, converter_names, get_converter
from voxclone.convert import world_auto
from voxclone.convert.world_auto import AutoWorldConverter

TEXT = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def auto(warm_encoder) -> AutoWorldConverter:
    return AutoWorldConverter()


@pytest.fixture(scope="module")
def target(auto, arctic):
    return auto.features([arctic])


@pytest.fixture(scope="module")
def source(espeak) -> Audio:
    return espeak.synthesize(TEXT, "en", "en-us+f3")


def test_registered_with_its_own_version_and_the_speaker_embedding(auto, target, world,
                                                                     warm_encoder, arctic):
    assert "world-auto" in converter_names() and get_converter("world-auto").name == "world-auto"
    assert auto.version != world.version  # profiles of the two are cached apart
    assert len(target["embedding"]) == 256
    np.testing.assert_allclose(target["embedding"], warm_encoder.embed_many([arctic]), atol=1e-6)
    assert set(world.features([arctic])) < set(target)


def test_the_map_is_linear_in_its_strength(auto, target, source):
    an = auto.analyze(source, "dio")
    src = auto._stats([an])
    full = auto.mapped_mcep(an, src, target, 1.0)
    half = auto.mapped_mcep(an, src, target, 0.5)
    np.testing.assert_allclose(half, an.mcep + 0.5 * (full - an.mcep), atol=1e-9)


def test_keeps_the_candidate_closest_to_the_target(auto, target, source, warm_encoder,
                                                   monkeypatch):
    settings = ConvertSettings(f0_method="dio")
    out = auto.convert(source, target, settings)
    assert out.sample_rate == auto.config.sample_rate
    again = auto.convert(source, target, settings)  # deterministic: the same choice
    np.testing.assert_array_equal(again.samples, out.samples)
    goal = np.asarray(target["embedding"], np.float32)
    chosen = cosine(warm_encoder.embed(out), goal)
    full = get_converter("world").convert(source, target, settings)
    assert chosen >= cosine(warm_encoder.embed(full), goal) - 1e-4  # strength 1 was a candidate
    # With only strength 0 on offer, the source itself comes back (at the converter's rate).
    monkeypatch.setattr(auto, "strengths", (0.0,))
    raw = auto.convert(source, target, settings)
    assert raw.duration == pytest.approx(source.duration, abs=1e-3)
    assert world_auto.STRENGTHS[0] == 0.0 and world_auto.STRENGTHS[-1] == 1.0


def test_say_with_world_auto(warm_home, arctic_path):
    from voxclone.pipeline import PipelineConfig, VoiceCloner

    cloner = VoiceCloner(PipelineConfig(tts="espeak", converter="world-auto"))
    result = cloner.synthesize("Hello there. Good morning.", "arctic")
    assert result.audio.sample_rate == 22050 and result.audio.duration > 0.8
    assert "strength" in result.timings_ms and "scoring" not in result.timings_ms  # once per voice
    per_piece = VoiceCloner(PipelineConfig(tts="espeak", converter="world-auto",
                                           strength_choice="piece"))
    result = per_piece.synthesize("Hello there. Good morning.", "arctic")
    assert "scoring" in result.timings_ms and "strength" not in result.timings_ms
