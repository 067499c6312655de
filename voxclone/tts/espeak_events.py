"""espeak-ng's own word and phoneme events, through its C library (libespeak-ng, ctypes).

The command line writes audio but reports no times. The library, given the same text, voice,
rate, pitch and volume and the command line's flags (``espeakPHONEMES | espeakENDPAUSE``),
synthesises the same samples and reports, for each word, its character position in the text
and the sample it starts at, and the sample each phoneme starts at. Its wave generator keeps
state from one call to the next in a process (a phase, a random generator), so only the first
call of a process is bit-identical to the command line; later calls differ in a few samples of
length (under 1 ms), far below caption resolution. The library is not thread-safe: calls hold
a lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

from voxclone.errors import EngineUnavailable

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_FLAGS = 0x1 | 0x100 | 0x1000  # espeakCHARS_UTF8 | espeakPHONEMES | espeakENDPAUSE
_RATE, _VOLUME, _PITCH = 1, 2, 3
_LIST_TERMINATED, _WORD, _PHONEME = 0, 1, 7


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (speak_lib.h); ``id`` is the union (phoneme name for phoneme events)."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EventWord:
    """One word event: ``text[start:start + length]`` (characters), and its phonemes' (start,
    end) samples, pauses left out (may be empty)."""

    start: int
    length: int
    phonemes: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Events:
    """What one synthesis reported: the word events in order, the samples made, their rate."""

    words: tuple[EventWord, ...]
    samples: int
    sample_rate: int


class _Library:
    """The process's libespeak-ng, initialised once for synchronous output with phoneme events."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as exc:
            raise EngineUnavailable("libespeak-ng is not installed (word times need it): "
                                    "`apt-get install -y libespeak-ng1`.") from exc
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                                      _INITIALIZE_PHONEME_EVENTS)
        if self.sample_rate <= 0:
            raise EngineUnavailable("libespeak-ng did not start (no espeak-ng-data?): reinstall "
                                    "espeak-ng.")
        self._raw: list[tuple[int, int, int, int, bytes]] = []
        self._samples = 0
        self._callback = _CALLBACK(self._on_audio)  # kept alive as long as the library
        self.lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, _wav: object, count: int, events: ctypes.Array) -> int:
        self._samples += max(count, 0)
        i = 0
        while events[i].type != _LIST_TERMINATED:
            e = events[i]
            self._raw.append((e.type, e.text_position, e.length, e.sample,
                              bytes(e.id) if e.type == _PHONEME else b""))
            i += 1
        return 0

    def synthesize(self, text: str, voice: str, rate: int, pitch: int, volume: int,
                   ) -> tuple[list[tuple[int, int, int, int, bytes]], int]:
        """The raw events (type, text position, length, sample, phoneme name) and sample count."""
        self._raw, self._samples = [], 0
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EngineUnavailable(f"libespeak-ng has no voice '{voice}'.")
        for param, value in ((_RATE, rate), (_VOLUME, volume), (_PITCH, pitch)):
            self.lib.espeak_SetParameter(param, value, 0)
        data = text.encode("utf-8")
        if self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _FLAGS, None, None):
            raise EngineUnavailable("libespeak-ng failed to synthesise the text.")
        return self._raw, self._samples


_library: _Library | None = None
_lock = threading.Lock()


def espeak_events(text: str, voice: str, rate: int = 175, pitch: int = 50, volume: int = 100,
                  ) -> Events:
    """Word events of espeak-ng speaking ``text`` with ``-v voice -s rate -p pitch -a volume``."""
    global _library
    with _lock:
        if _library is None:
            _library = _Library()
        raw, samples = _library.synthesize(text, voice, rate, pitch, volume)
        sample_rate = _library.sample_rate
    return Events(tuple(_words(raw, samples)), samples, sample_rate)


def _words(raw: list[tuple[int, int, int, int, bytes]], total: int) -> list[EventWord]:
    """Word events with their phonemes; a phoneme ends where the next event starts."""
    words: list[EventWord] = []
    current: tuple[int, int] | None = None
    phonemes: list[tuple[int, int]] = []
    for i, (kind, position, length, sample, name) in enumerate(raw):
        if kind == _WORD and length > 0:
            if current is not None:
                words.append(EventWord(*current, tuple(phonemes)))
            current, phonemes = (position - 1, length), []
        elif kind == _PHONEME and current is not None and not name.startswith(b"_"):
            end = next((r[3] for r in raw[i + 1:] if r[3] > sample), total)
            phonemes.append((sample, end))
    if current is not None:
        words.append(EventWord(*current, tuple(phonemes)))
    return words
