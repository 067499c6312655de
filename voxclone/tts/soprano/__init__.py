"""Soprano TTS (Soprano-1.1-80M and Soprano-80M): a Qwen3 LM whose hidden states a Vocos-style
decoder turns into 32 kHz speech. English only; one voice.

``SopranoTTS(model_dir, backend="onnxruntime" | "onnxruntime-int8" | "openvino" |
"openvino-int8" | "torch", num_threads=1)``; registered as the ``soprano`` TTS engine (files from
``voxclone models fetch soprano``).
"""

from voxclone.tts.base import register_tts
from voxclone.tts.soprano.engine import SopranoChunk, SopranoEngine, SopranoResult, SopranoTTS

register_tts("soprano", SopranoEngine)

__all__ = ["SopranoChunk", "SopranoEngine", "SopranoResult", "SopranoTTS"]
