"""``codec-lm:CHECKPOINT``: a trained codec language model as a TTS engine.

The model, codec and decoding live in ``voxclone.codeclm`` (which imports only audio and text),
so this engine reaches them without importing ``voxclone.train``. A codec LM clones in context:
register a reference clip and its transcript with :meth:`CodecLMTTS.add_reference`, then pass
the returned id as ``voice``; the reference's codes and text become the prompt.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

from voxclone.audio.types import Audio
from voxclone.errors import EngineUnavailable, InvalidSetting
from voxclone.tts.base import BaseVoice, Style, register_tts_family

MAX_PROMPT_S = 6.0


class CodecLMTTS:
    """AR (top-k / top-p, repetition-aware, length cap) then NAR, decoded by the model's codec."""

    needs_reference = True

    def __init__(self, checkpoint: str | Path, max_seconds: float = 20.0) -> None:
        from voxclone.codeclm.pretrained import CodecLM

        path = Path(checkpoint)
        if not path.is_dir():
            raise EngineUnavailable(f"codec-lm checkpoint not found: {path}. Train one with "
                                    "`voxclone train codec-lm`, then use --tts codec-lm:RUN/checkpoints/step-N.")
        self.lm = CodecLM.from_pretrained(path)
        self.name = f"codec-lm:{path}"
        self.sample_rate = self.lm.codec.sample_rate
        self.languages = (self.lm.tokenizer.lang,)
        self.max_seconds = max_seconds
        self.seed: int | None = None  # set on a view made by :meth:`seeded`
        self._refs: dict[str, tuple[Audio, str]] = {}

    def seeded(self, seed: int) -> "CodecLMTTS":
        """A view of this engine (same model and references) that samples every utterance
        from a generator seeded with ``seed``."""
        view = copy.copy(self)
        view.seed = int(seed)
        return view

    def add_reference(self, audio: Audio, transcript: str) -> str:
        """Register a prompt (the first ``MAX_PROMPT_S`` seconds are used); returns its voice id."""
        if not transcript.strip():
            raise InvalidSetting("A codec-LM reference needs its transcript.")
        clip = audio.slice(0, MAX_PROMPT_S) if audio.duration > MAX_PROMPT_S else audio
        key = hashlib.sha256(clip.samples.tobytes() + transcript.encode()).hexdigest()[:12]
        self._refs[f"ref:{key}"] = (clip, transcript)
        return f"ref:{key}"

    def voices(self, lang: str | None = None) -> list[BaseVoice]:
        return [BaseVoice(k, self.languages[0], "?", self.name) for k in self._refs]

    def default_voice(self, lang: str) -> BaseVoice:
        raise InvalidSetting("codec-lm speaks in the voice of a reference: give --voice or --ref.")

    def synthesize(self, text: str, lang: str, voice: str | None = None, style: Style = Style()) -> Audio:
        """``text`` in the voice of reference ``voice`` (an id from :meth:`add_reference`)."""
        if voice not in self._refs:
            raise InvalidSetting(f"Unknown codec-lm reference '{voice}': register one with add_reference.")
        audio, transcript = self._refs[voice]
        return self.lm.synthesize(text, audio, transcript, max_seconds=self.max_seconds,
                                  speed=style.speed, seed=self.seed)


register_tts_family("codec-lm", CodecLMTTS)
