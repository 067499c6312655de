"""Codec-LM parts shared by training (``voxclone.train``) and synthesis (the ``codec-lm`` TTS
engine): audio codecs behind one ``Codec`` protocol, text tokens, the AR and NAR transformers
and their decoding. May import ``voxclone.audio`` and ``voxclone.text`` only."""

from voxclone.codeclm.codec import Codec, load_codec
from voxclone.codeclm.config import ARConfig, NARConfig, model_preset

__all__ = ["Codec", "load_codec", "ARConfig", "NARConfig", "model_preset"]
