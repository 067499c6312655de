"""`make demo`: clone the voice of a real recording shipped by a dependency, offline.

Uses the CMU ARCTIC utterance that pysptk ships (arctic_a0007),
speaks two sentences in it, converts one base-TTS utterance into it, writes WAVs under out/demo/
and prints each output's speaker similarity to the reference beside the raw base TTS's.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from voxclone.audio import load, save
from voxclone.audio.metadata import metadata_tags
from voxclone.audio.speaker import cosine, speaker_encoder
from voxclone.config import Settings
from voxclone.convert import get_converter
from voxclone.pipeline import PipelineConfig, VoiceCloner, VoiceConversionPipeline
from voxclone.provenance.record import output_info, voice_id
from voxclone.tts import get_tts
from voxclone.voices import VoiceLibrary

SENTENCES = ("The quick brown fox jumps over the lazy dog near the river bank.",
             "Voice cloning on an ordinary computer works offline, without any downloads.")
CONVERT_TEXT = "Please call Stella and ask her to bring these things with her from the store."


def reference_file() -> Path:
    """The real CMU ARCTIC recording shipped inside pysptk."""
    import pysptk.util

    return Path(pysptk.util.example_audio_file())


def run(out_dir: Path = Path("out/demo")) -> list[tuple[str, float, float]]:
    """Run the demo; return (output file, similarity of output, similarity of raw base TTS)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ref_path = reference_file()
    home = Path(tempfile.mkdtemp(prefix="voxclone-demo-"))
    settings = Settings(home=home)
    library = VoiceLibrary(settings)
    library.add("arctic", [ref_path])
    save(load(ref_path), out_dir / "reference.wav")
    encoder = speaker_encoder()
    target = encoder.embed(load(ref_path))
    cloner = VoiceCloner(PipelineConfig(), library, settings)
    tts = get_tts("espeak")
    rows = []
    for i, text in enumerate(SENTENCES, 1):
        start = time.perf_counter()
        result = cloner.synthesize(text, "arctic", "en", candidates=2)
        raw = tts.synthesize(text, "en")
        save(result.audio, out_dir / f"say-{i}.wav", _tags("speech", text, result.voice_id,
                                                           base_voice=result.base_voice))
        save(raw, out_dir / f"say-{i}-raw-base.wav")
        rows.append((f"say-{i}.wav", cosine(encoder.embed(result.audio), target),
                     cosine(encoder.embed(raw), target), time.perf_counter() - start))
    source = tts.synthesize(CONVERT_TEXT, "en", "en-us+f3")
    converted = VoiceConversionPipeline(PipelineConfig(), library, settings).convert(source, "arctic")
    save(source, out_dir / "convert-source.wav")
    save(converted, out_dir / "convert.wav", _tags("convert", "", voice_id(
        library.profile("arctic", get_converter("world")).clip_hashes)))
    rows.append(("convert.wav", cosine(encoder.embed(converted), target),
                 cosine(encoder.embed(source), target), 0.0))
    return [(name, sim, raw) for name, sim, raw, _ in rows]


def _tags(kind: str, text: str, voice_hash: str, **extra: str) -> dict[str, str]:
    """Metadata of a demo output: its settings and provenance (default pipeline, watermarked)."""
    cfg = PipelineConfig()
    engine = f"{cfg.tts}:{cfg.converter}" if kind == "speech" else f"-:{cfg.converter}"
    return metadata_tags(output_info(kind, text, "arctic", engine, {"lang": "en"}, voice_hash,
                                     cfg.watermark, **extra))


def main() -> int:
    """Print the similarity table."""
    print(f"reference: {reference_file()} (CMU ARCTIC, shipped by pysptk)")
    rows = run()
    print(f"\n{'output':<16} {'similarity':>10} {'raw base TTS':>13} {'gain':>7}")
    for name, sim, raw in rows:
        print(f"{name:<16} {sim:>10.3f} {raw:>13.3f} {sim - raw:>+7.3f}")
    print("\nspeaker similarity = resemblyzer cosine to the reference; WAVs in out/demo/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
