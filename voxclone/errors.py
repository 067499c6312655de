"""Typed errors. Every message says what was wrong and what to do about it."""

from __future__ import annotations


class VoxcloneError(Exception):
    """Base class of every error voxclone raises on purpose."""


class AudioError(VoxcloneError):
    """An audio file is missing, unreadable, empty or has an unusable format."""


class ReferenceTooShort(AudioError):
    """A reference holds less speech than enrolment needs."""


class SilentReference(AudioError):
    """A reference holds no speech at all."""


class UnsupportedLanguage(VoxcloneError):
    """A language no engine of the requested kind can speak."""


class TextError(VoxcloneError):
    """Text is empty or longer than the documented limit."""


class VoiceNotFound(VoxcloneError):
    """A voice name not present in the voice library."""


class InvalidVoiceName(VoxcloneError):
    """A voice name that is not allowed (path separators, '..', odd characters)."""


class VoiceExists(VoxcloneError):
    """A voice of that name already exists."""


class EngineUnavailable(VoxcloneError):
    """An engine is unknown or cannot run here (missing program or package)."""


class ModelNotFound(EngineUnavailable):
    """A neural engine's model files are missing; the message names the fetch command."""


class ModelCorrupt(ModelNotFound):
    """A model file failed its integrity check; the message says how to restore it."""


class ProfileVersionError(VoxcloneError):
    """A stored file was written by an unknown format version."""


class VoiceArchiveError(VoxcloneError):
    """A voice archive (zip) is damaged, unsafe or not a voxclone voice export."""


class InvalidSetting(VoxcloneError, ValueError):
    """A per-call setting (speed, pitch, strength, ...) outside its documented range."""


class LimitExceeded(VoxcloneError):
    """A request is over a server limit (upload size, text length, clip count)."""


class ServerBusy(VoxcloneError):
    """The server's queue of pending generations is full; retry later."""


class UploadTooLarge(LimitExceeded):
    """An uploaded file or request body is larger than the server accepts."""


class HistoryEntryNotFound(VoxcloneError):
    """No generation with that id in the server's history (or its file is gone)."""


class BatchError(VoxcloneError):
    """A batch job cannot start: unusable output folder, a job database of other settings, ..."""


class ManifestError(BatchError):
    """A batch manifest is unreadable, lacks a column, or holds invalid or duplicate ids."""


class ProvenanceError(VoxcloneError):
    """Content credentials or the signing key cannot be made, read or verified."""
