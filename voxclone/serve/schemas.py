"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxclone.serve.jobs import SpeechJob


class SpeechRequest(BaseModel):
    """``POST /v1/audio/speech``: the OpenAI body plus voxclone's extras."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field("voxclone", description="Accepted for OpenAI compatibility; `engine` picks "
                                               "the engines. A value like 'espeak:world' is used as the engine.")
    input: str = Field(..., description="Text to speak.")
    voice: str = Field(..., description="Voice name in the library; else an OpenAI name (alloy, "
                                        "echo, fable, onyx, nova, shimmer) or a base-voice id "
                                        "(GET /v1/base-voices), spoken as itself.")
    response_format: Literal["wav", "mp3", "flac", "opus", "pcm"] = Field(
        "mp3", description="pcm is raw signed 16-bit little-endian mono at X-Sample-Rate Hz.")
    speed: float = Field(1.0, description="Tempo multiplier 0.5-2.")
    instructions: str | None = Field(None, description="Accepted for compatibility; not used.")
    language: str = Field("en", description="en, es, fr, zh, ja or ko.")
    pitch: float = Field(0.0, description="Pitch offset in semitones -12..12.")
    energy: float = Field(1.0, description="Expressiveness/loudness 0.25-2.")
    seed: int | None = Field(None, description="Random seed where engines sample.")
    engine: str | None = Field(None, description="'tts:converter' (e.g. 'espeak:world'), a TTS "
                                                 "name, a converter name or 'auto'; default: the "
                                                 "server's (auto: measured per language).")
    candidates: int = Field(1, description="Try N base voices and keep the closest output.")
    split: str | None = Field(None, description="Line delimiter for long text (default: sentences).")
    stream: bool = Field(False, description="Stream chunked pcm or wav, one sentence at a time.")
    watermark: bool = Field(True, description="Embed the inaudible watermark; false is refused "
                                              "unless the server runs with --allow-no-watermark.")
    timestamps: bool = Field(False, description="Also time every word: JSON with the audio in "
                                                "base64 and `words` [{word, start, end}] in seconds; "
                                                "with `stream`, one such JSON line per sentence.")

    def job(self, engine_names: tuple[list[str], list[str]]) -> SpeechJob:
        """The SpeechJob this request asks for."""
        tts_known, conv_known = engine_names
        engine = self.engine
        if engine is None and ":" in self.model:
            tts, _, conv = self.model.partition(":")
            engine = self.model if tts in tts_known and conv in conv_known else None
        return SpeechJob(self.input, self.voice, self.language, engine, self.speed, self.pitch,
                         self.energy, self.seed, self.candidates, self.split, self.response_format,
                         self.watermark, self.timestamps)


class ErrorBody(BaseModel):
    """``{"error": {"message", "type", "code"}}`` as OpenAI's API returns errors."""

    error: dict[str, Any]
