"""Soprano TTS (Soprano-1.1-80M and Soprano-80M): a Qwen3 LM whose hidden states a Vocos-style
decoder turns into 32 kHz speech. English only; one voice.

``SopranoTTS(model_dir, backend="onnxruntime" | "onnxruntime-int8" | "openvino" |
"openvino-int8" | "torch", num_threads=1)``; registered as the ``soprano`` TTS engine (files from
``voxclone models fetch soprano``; ``VOXCLONE_SOPRANO_BACKEND`` picks the engine's backend).
torch and transformers are imported only when it is used.
"""

from __future__ import annotations

from typing import Any

from voxclone.tts.base import TTSEngine, register_tts

__all__ = ["SopranoChunk", "SopranoEngine", "SopranoResult", "SopranoTTS"]


def _engine() -> TTSEngine:
    """The registered engine; ``VOXCLONE_SOPRANO_BACKEND`` picks its backend (default
    onnxruntime, float32)."""
    import os

    from voxclone.tts.soprano.engine import SopranoEngine

    return SopranoEngine(backend=os.environ.get("VOXCLONE_SOPRANO_BACKEND") or "onnxruntime")


def __getattr__(name: str) -> Any:
    if name in __all__:
        from voxclone.tts.soprano import engine

        return getattr(engine, name)
    raise AttributeError(name)


register_tts("soprano", _engine)
