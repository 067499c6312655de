"""The HTTP API: OpenAI-compatible ``/v1/audio/speech`` plus voices, conversion and history."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from voxclone.audio.io import from_bytes
from voxclone.convert.base import converter_names
from voxclone.errors import (EngineUnavailable, HistoryEntryNotFound, InvalidSetting, ModelNotFound,
                             ServerBusy, UploadTooLarge, VoiceExists, VoiceNotFound, VoxcloneError)
from voxclone.asr.types import Word
from voxclone.serve.encode import MEDIA_TYPES, STREAM_FORMATS, pcm_bytes, wav_bytes, wav_stream_header
from voxclone.serve.schemas import SpeechRequest
from voxclone.pipeline.plain_voices import base_voice_ids, openai_voice_table
from voxclone.serve.service import Generation, Service
from voxclone.text.languages import LANGUAGE_NAMES, normalize_language
from voxclone.tts.base import tts_names
from voxclone.voices import validate_name

log = logging.getLogger(__name__)
_STATUS: list[tuple[type[VoxcloneError], int]] = [
    (VoiceNotFound, 404), (HistoryEntryNotFound, 404), (VoiceExists, 409), (UploadTooLarge, 413), (ServerBusy, 503),
    (ModelNotFound, 503), (InvalidSetting, 422), (EngineUnavailable, 503), (VoxcloneError, 422)]


def error_response(status: int, message: str, kind: str, **extra: object) -> JSONResponse:
    """An OpenAI-style JSON error."""
    body = {"error": {"message": message, "type": kind, "code": status, **extra}}
    return JSONResponse(jsonable_encoder(body), status_code=status)


def status_of(exc: VoxcloneError) -> int:
    """The HTTP status of a voxclone error."""
    return next(code for cls, code in _STATUS if isinstance(exc, cls))


def install_error_handlers(app: FastAPI, service: Service) -> None:
    """JSON errors for voxclone errors, bad requests, oversized bodies and crashes."""

    @app.exception_handler(VoxcloneError)
    async def _voxclone(_: Request, exc: VoxcloneError) -> JSONResponse:
        return error_response(status_of(exc), str(exc), type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(422, f"Invalid request: {where}: {first.get('msg', 'bad value')}.",
                              "InvalidRequest", details=exc.errors())

    @app.middleware("http")
    async def _body_limit(request: Request, call_next):  # type: ignore[no-untyped-def]
        limit = service.config.max_upload_bytes * service.config.max_clips + (1 << 20)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return error_response(413, f"The request body is {int(length) / 2**20:.1f} MiB; this "
                                  f"server takes at most {limit / 2**20:.0f} MiB.", "UploadTooLarge")
        try:
            return await call_next(request)
        except Exception as exc:  # a crash still answers JSON, and is logged
            log.exception("request failed")
            return error_response(500, f"Internal error: {exc}", "InternalError")


def api_router(service: Service) -> APIRouter:
    """Routes under ``/v1`` and ``/health``."""
    router = APIRouter()
    names = (tts_names(), converter_names() + ["none"])

    @router.get("/health", tags=["server"])
    async def health() -> dict:
        """Liveness, queue depth, the engine setting ("auto": the measured default per language)
        with the pair each language gets, and the warm-up's progress."""
        rt = service.runtime
        return {"status": "ok", "pending": service.pending, "workers": service.config.workers,
                "engine": rt.engine, "engines_by_language": service.engines_by_language(),
                "output_sample_rate": rt.output_sample_rate,
                "warmup": service.warmup.status.to_dict()}

    @router.post("/v1/audio/speech", tags=["speech"], response_class=Response,
                 responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}})
    async def speech(body: SpeechRequest) -> Response:
        """Speak ``input`` in ``voice`` (OpenAI ``audio.speech.create`` compatible)."""
        job = body.job(names)
        if body.stream:
            return await _stream(service, job)
        gen = await service.submit(service.speak, job)
        if job.timestamps:
            return _captioned_response(gen, job.format)
        return _audio_response(gen, job.format)

    @router.get("/v1/voices", tags=["voices"])
    async def list_voices() -> dict:
        """Every voice in the library."""
        return {"voices": [v.to_dict() for v in service.library.list()]}

    @router.get("/v1/base-voices", tags=["voices"])
    async def base_voices(language: str = "en") -> dict:
        """The engines' own voices for ``language`` (a request's ``voice`` may name one; it is
        spoken as itself) and what each OpenAI voice name speaks with here."""
        lang = normalize_language(language, tuple(LANGUAGE_NAMES))
        table = openai_voice_table(lang)
        return {"language": lang, "engines": base_voice_ids(lang),
                "openai": {k: None if v is None else {"tts": v.tts, "voice": v.voice}
                           for k, v in table.items()}}

    @router.get("/v1/voices/{name}", tags=["voices"])
    async def show_voice(name: str) -> dict:
        """Clips and profile statistics of one voice."""
        validate_name(name)
        return await service.submit(service.voice_stats, name)

    @router.post("/v1/voices", tags=["voices"], status_code=201)
    async def add_voice(name: str = Form(...), files: list[UploadFile] = File(...),
                        replace: bool = Form(False), consent: str | None = Form(None)) -> dict:
        """Add a voice from one or more reference recordings (wav/flac/mp3/ogg); ``consent``:
        the speaker's consent statement, carried into every output's provenance."""
        validate_name(name)
        uploads = [(f.filename or "upload.wav", await _read_upload(service, f)) for f in files]
        info = await service.submit(service.add_voice, name, uploads, replace, consent)
        return info.to_dict()

    @router.post("/v1/voices/{name}/adapt", tags=["voices"])
    async def adapt_voice(name: str, language: str = Form("en"), tts: str = Form("kokoro")) -> dict:
        """Learn the voice's frame map for base TTS ``tts`` (for the ``adapted`` converter;
        about 50 s the first time, then cached; for Kokoro, after refining the voice's style
        if that has not been done, about 90 s more)."""
        validate_name(name)
        return await service.submit(service.adapt_voice, name, language, tts)

    @router.delete("/v1/voices/{name}", tags=["voices"])
    async def delete_voice(name: str) -> dict:
        """Delete a voice and its clips."""
        validate_name(name)
        service.library.remove(name)
        return {"deleted": name}

    @router.post("/v1/convert", tags=["speech"], response_class=Response)
    async def convert(file: UploadFile = File(...), voice: str = Form(...),
                      pitch_shift: float = Form(0.0), strength: float = Form(1.0),
                      engine: str | None = Form(None), response_format: str = Form("wav"),
                      watermark: bool = Form(True), timestamps: bool = Form(False),
                      language: str | None = Form(None)) -> Response:
        """Convert uploaded speech into ``voice``. ``timestamps``: JSON with the audio in base64
        beside every word heard in the source (the conversion keeps its timing); ``language``
        of the speech for them (default: detected)."""
        data = await _read_upload(service, file)
        name = file.filename or "upload.wav"
        gen = await service.submit(lambda: service.convert(from_bytes(data, name), voice, pitch_shift,
                                                           strength, engine, response_format, name,
                                                           watermark, timestamps, language))
        if timestamps:
            return _captioned_response(gen, response_format)
        return _audio_response(gen, response_format)

    @router.post("/v1/detect", tags=["provenance"])
    async def detect(file: UploadFile = File(...)) -> dict:
        """Whether uploaded audio carries the watermark, with its confidence in [0, 1]."""
        data = await _read_upload(service, file)
        return await service.submit(service.detect, data, file.filename or "upload.wav")

    @router.get("/v1/history", tags=["history"])
    async def history(limit: int = 50, offset: int = 0) -> dict:
        """Past generations, newest first."""
        limit = max(1, min(limit, 500))
        return {"items": [r.to_dict() for r in service.history.list(limit, max(0, offset))]}

    @router.get("/v1/history/{record_id}/audio", tags=["history"])
    async def history_audio(record_id: int) -> FileResponse:
        """The output file of one generation."""
        record = service.history.get(record_id)
        if record is None or not Path(record.output_path).is_file():
            raise HistoryEntryNotFound(f"No output file for history entry {record_id}: see "
                                       "GET /v1/history for the entries there are.")
        path = Path(record.output_path)
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix[1:], "application/octet-stream"))

    return router


async def _read_upload(service: Service, upload: UploadFile) -> bytes:
    if upload.size is not None:
        service.check_upload_size(upload.size, upload.filename or "upload")
    data = await upload.read(service.config.max_upload_bytes + 1)
    service.check_upload_size(len(data), upload.filename or "upload")
    return data


def _audio_response(gen: Generation, fmt: str) -> Response:
    headers = {"X-Voxclone-Id": str(gen.record.id), "X-Sample-Rate": str(gen.audio.sample_rate),
               "X-Base-Voice": gen.outputs[0][0] if gen.outputs else ""}
    if fmt == "pcm":
        return Response(pcm_bytes(gen.audio), media_type=MEDIA_TYPES["pcm"], headers=headers)
    return Response(gen.path.read_bytes(), media_type=MEDIA_TYPES[fmt], headers=headers)


def words_json(words: Sequence[Word]) -> list[dict]:
    """Timed words as the API returns them: ``[{"word", "start", "end"}]``, seconds."""
    return [{"word": w.word, "start": w.start, "end": w.end} for w in words]


def _captioned_response(gen: Generation, fmt: str) -> JSONResponse:
    """``timestamps: true``: the audio file (raw PCM for pcm) in base64 beside its words."""
    data = pcm_bytes(gen.audio) if fmt == "pcm" else gen.path.read_bytes()
    body = {"id": gen.record.id, "format": fmt, "sample_rate": gen.audio.sample_rate,
            "duration": round(gen.audio.duration, 3), "audio": base64.b64encode(data).decode("ascii"),
            "words": words_json(gen.words), "timing": gen.timing}
    return JSONResponse(body, headers={"X-Voxclone-Id": str(gen.record.id),
                                       "X-Sample-Rate": str(gen.audio.sample_rate)})


def _chunk_line(chunk, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    """One NDJSON line of a stream with timestamps: the sentence's audio (raw PCM, or a whole
    WAV file for wav) in base64 and its words, timed from the start of the stream."""
    data = pcm_bytes(chunk.audio) if fmt == "pcm" else wav_bytes(chunk.audio)
    line = {"format": fmt, "sample_rate": chunk.audio.sample_rate,
            "duration": round(chunk.audio.duration, 3), "audio": base64.b64encode(data).decode("ascii"),
            "words": words_json(chunk.words), "timing": chunk.timing}
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


async def _stream(service: Service, job) -> StreamingResponse:  # type: ignore[no-untyped-def]
    """Start the stream; errors before the first chunk still come back as JSON errors."""
    if job.format not in STREAM_FORMATS:
        raise InvalidSetting(f"Streaming sends {' or '.join(STREAM_FORMATS)}, not "
                             f"'{job.format}': set response_format to pcm or wav.")
    slot = service.reserve()
    slot.__enter__()
    chunks = service.stream(job)
    try:
        first = await service.next_chunk(chunks)
    except BaseException:
        slot.__exit__(None, None, None)
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            chunk = first
            if job.format == "wav" and chunk is not None and not job.timestamps:
                yield wav_stream_header(chunk.sample_rate)
            while chunk is not None:
                yield _chunk_line(chunk, job.format) if job.timestamps else pcm_bytes(chunk)
                chunk = await service.next_chunk(chunks)
        finally:
            try:
                chunks.close()
            except ValueError:  # still running on a worker after a client went away
                log.warning("stream closed while a chunk was being made")
            slot.__exit__(None, None, None)

    audio = first.audio if job.timestamps and first is not None else first
    rate = str(audio.sample_rate) if audio is not None else ""
    media = "application/x-ndjson" if job.timestamps else MEDIA_TYPES[job.format]
    return StreamingResponse(body(), media_type=media, headers={"X-Sample-Rate": rate})
