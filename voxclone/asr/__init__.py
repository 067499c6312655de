"""Offline speech recognition: Whisper (faster-whisper, models that ship in wheels) for six and
more languages, with word timestamps; pocketsphinx only when asked for; WER/CER per language.

- ``transcribe(audio, lang=None, asr="whisper")`` -> :class:`Transcript` (text, language, words).
- ``error_rate(reference, hypothesis, lang)``: WER (en/es/fr/...) or CER (zh/ja/ko).
- ``word_error_rate(audio, text, lang, asr)``: transcribe, then :func:`error_rate`.
"""

from __future__ import annotations

from voxclone.asr.scoring import CER_LANGUAGES, error_rate, metric_name, normalize_text, wer
from voxclone.asr.types import Transcript, Word
from voxclone.audio.types import Audio
from voxclone.errors import InvalidSetting

RECOGNISERS = ("whisper", "whisper-base", "pocketsphinx")
"""``whisper``: tiny.en for English, base otherwise; ``whisper-base``: base for every language;
``pocketsphinx``: the bundled en-us model (English only, weak)."""


def transcribe(audio: Audio, lang: str | None = None, asr: str = "whisper", words: bool = True,
               ) -> Transcript:
    """Transcript of ``audio`` (any sample rate); ``lang`` None detects the language (Whisper)."""
    if asr == "pocketsphinx":
        from voxclone.asr.pocketsphinx import transcribe_pocketsphinx

        return transcribe_pocketsphinx(audio, lang or "en")
    if asr not in RECOGNISERS:
        raise InvalidSetting(f"Unknown recogniser '{asr}': choose one of {', '.join(RECOGNISERS)}.")
    from voxclone.asr.whisper import transcribe_whisper

    return transcribe_whisper(audio, lang, model="base" if asr == "whisper-base" else "auto",
                              words=words)


def word_error_rate(audio: Audio, reference_text: str, lang: str = "en", asr: str = "whisper",
                    ) -> tuple[float, str]:
    """WER (CER for zh/ja/ko) of the transcript of ``audio`` against ``reference_text``, and that
    transcript."""
    hypothesis = transcribe(audio, lang, asr, words=False).text
    return error_rate(reference_text, hypothesis, lang), hypothesis


__all__ = ["CER_LANGUAGES", "RECOGNISERS", "Transcript", "Word", "error_rate", "metric_name",
           "normalize_text", "transcribe", "wer", "word_error_rate"]
