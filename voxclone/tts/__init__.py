"""Base text-to-speech engines behind one TTSEngine protocol."""

from voxclone.tts import espeak  # noqa: F401  (registers the engine)
from voxclone.tts import kokoro, piper  # noqa: F401  (register the engines; models load lazily)
from voxclone.tts import soprano  # noqa: F401  (registers the engine; torch loads on first use)
from voxclone.tts import codec_lm  # noqa: F401  (registers codec-lm:CHECKPOINT; loads on use)
from voxclone.tts.base import BaseVoice, Style, TTSEngine, get_tts, register_tts, tts_names

__all__ = ["BaseVoice", "Style", "TTSEngine", "get_tts", "register_tts", "tts_names"]
