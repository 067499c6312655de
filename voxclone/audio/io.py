"""Reading and writing audio files: wav, flac, mp3, ogg at 8-48 kHz, mono or stereo."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from voxclone.audio.dsp import resample
from voxclone.audio.types import Audio
from voxclone.errors import AudioError

SUPPORTED_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus")
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_DURATION_S = 3 * 3600.0


def load(path: str | os.PathLike) -> Audio:
    """Read an audio file as float32 mono at its own sample rate.

    Raises AudioError when the file is missing, empty, corrupt, too large, silent of samples,
    or has a sample rate outside 8-48 kHz.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioError(f"Audio file not found: {p}. Check the path.")
    size = p.stat().st_size
    if size == 0:
        raise AudioError(f"Audio file is empty (0 bytes): {p}. Record or export it again.")
    if size > MAX_FILE_BYTES:
        raise AudioError(f"Audio file is too large ({size / 2**20:.0f} MiB > "
                         f"{MAX_FILE_BYTES // 2**20} MiB): {p}. Split it into shorter files.")
    try:
        info = sf.info(str(p))
        if info.frames > MAX_DURATION_S * info.samplerate:
            raise AudioError(f"Audio is too long ({info.frames / info.samplerate:.0f} s > "
                             f"{MAX_DURATION_S:.0f} s): {p}. Split it into shorter files.")
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception as exc:  # soundfile raises several types for bad data
        raise AudioError(f"Cannot decode audio file {p} ({exc}). Use wav, flac, mp3 or ogg; "
                         "re-export the file if it is damaged.") from exc
    return _validated(data.mean(axis=1), sr, str(p))


def _validated(samples: np.ndarray, sr: int, name: str) -> Audio:
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError(f"Unsupported sample rate {sr} Hz in {name}: use 8000-48000 Hz "
                         "(resample it, e.g. `sox in.wav -r 22050 out.wav`).")
    if len(samples) == 0:
        raise AudioError(f"Audio file has no samples: {name}. Record or export it again.")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"Audio file holds NaN or infinite samples: {name}. Re-export it.")
    return Audio(samples.astype(np.float32), sr)


def from_bytes(data: bytes, name: str = "upload") -> Audio:
    """Decode audio held in memory (uploads). Same checks as :func:`load`."""
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in SUPPORTED_SUFFIXES else ".wav"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        return load(tmp.name)


def save(audio: Audio, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> Path:
    """Write ``audio`` atomically (temp file + rename); format from the suffix (wav default).

    ``metadata`` goes into the file's text tags (WAV INFO chunk, Vorbis comments, ID3 for mp3).
    Opus only stores 8, 12, 16, 24 or 48 kHz: other rates are resampled to 48 kHz for ``.opus``.
    """
    p = Path(path)
    if p.is_dir():
        raise AudioError(f"The output {p} is a folder: name a file, e.g. {p / 'out.wav'}.")
    suffix = p.suffix.lower() or ".wav"
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3", ".opus": "OGG"}.get(suffix)
    if fmt is None:
        raise AudioError(f"Cannot write '{suffix}' files: use one of {', '.join(SUPPORTED_SUFFIXES)}.")
    subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}[fmt]
    if suffix == ".opus":
        subtype = "OPUS"
        if audio.sample_rate not in OPUS_RATES:
            audio = resample(audio, 48000)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=suffix)
    except OSError as exc:
        raise AudioError(f"Cannot write {p}: {exc.strerror or exc} (choose a writable folder).") from exc
    os.close(fd)
    try:
        samples = np.clip(audio.samples, -1.0, 1.0)
        with sf.SoundFile(tmp, "w", samplerate=audio.sample_rate, channels=1,
                          format=fmt, subtype=subtype) as f:
            for key, value in (metadata or {}).items():
                _set_tag(f, key, value)
            f.write(samples)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


_TAGS = ("title", "copyright", "software", "artist", "comment", "date", "album", "license",
         "tracknumber", "genre")


def _set_tag(f: sf.SoundFile, key: str, value: str) -> None:
    if key in _TAGS:
        setattr(f, key, value)


def read_tags(path: str | os.PathLike) -> dict[str, str]:
    """Text tags stored in an audio file (empty when none)."""
    try:
        with sf.SoundFile(str(path)) as f:
            return {k: v for k, v in f.copy_metadata().items() if v}
    except Exception as exc:
        raise AudioError(f"Cannot read tags of {path} ({exc}).") from exc


class StreamWriter:
    """Writes audio chunks to ``path`` as they arrive (flushed after each), for streaming output.

    Unlike :func:`save` the file is written in place, so other programs can read it while it grows.
    """

    def __init__(self, path: str | os.PathLike, sample_rate: int,
                 metadata: dict[str, str] | None = None) -> None:
        p = Path(path)
        fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}.get(p.suffix.lower())
        if fmt is None:
            raise AudioError(f"Streaming writes .wav, .flac or .ogg files, not '{p.suffix}'.")
        p.parent.mkdir(parents=True, exist_ok=True)
        subtype = "VORBIS" if fmt == "OGG" else "PCM_16"
        self.sample_rate = sample_rate
        self._file = sf.SoundFile(str(p), "w", samplerate=sample_rate, channels=1, format=fmt,
                                  subtype=subtype)
        for key, value in (metadata or {}).items():
            _set_tag(self._file, key, value)
        self.frames = 0

    def write(self, chunk: Audio) -> None:
        """Append one chunk (its rate must match the writer's)."""
        if chunk.sample_rate != self.sample_rate:
            raise AudioError(f"Chunk at {chunk.sample_rate} Hz in a {self.sample_rate} Hz stream.")
        self._file.write(np.clip(chunk.samples, -1.0, 1.0))
        self._file.flush()
        self.frames += len(chunk)

    def close(self) -> None:
        """Finish the file."""
        self._file.close()

    def __enter__(self) -> "StreamWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
