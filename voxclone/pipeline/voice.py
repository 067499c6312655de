"""Resolving what the caller means by "a voice": a library name, reference files or a profile."""

from __future__ import annotations

import os
from collections.abc import Sequence

from voxclone.audio.io import load
from voxclone.audio.types import Audio
from voxclone.convert.base import Converter
from voxclone.voices.profile import VoiceProfile, build_profile
from voxclone.voices.store import VoiceLibrary

VoiceRef = str | VoiceProfile | Sequence[str | os.PathLike]
"""A voice name in the library, a built profile, or a list of reference audio files
(:class:`ReferenceClips`: files already decoded)."""


class ReferenceClips(Sequence[str | os.PathLike]):
    """Reference files decoded once: the sequence of their paths, which prints as the list of
    paths, holding each file's clip in ``clips`` (the same order)."""

    def __init__(self, paths: Sequence[str | os.PathLike], clips: Sequence[Audio]) -> None:
        self.paths = list(paths)
        self.clips = list(clips)

    def __getitem__(self, i: int) -> str | os.PathLike:  # type: ignore[override]
        return self.paths[i]

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return repr(self.paths)


def reference_clips(files: Sequence[str | os.PathLike]) -> list[Audio]:
    """The clips of reference files: the ones a :class:`ReferenceClips` holds, else decoded."""
    if isinstance(files, ReferenceClips):
        return list(files.clips)
    return [load(f) for f in files]


def resolve_profile(voice: VoiceRef, converter: Converter, library: VoiceLibrary) -> VoiceProfile:
    """The cached or freshly built profile of ``voice`` for ``converter``."""
    if isinstance(voice, VoiceProfile):
        return voice
    if isinstance(voice, str):
        return library.profile(voice, converter)
    return build_profile("reference", reference_clips(voice), converter)
