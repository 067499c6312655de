"""Resolving what the caller means by "a voice": a library name, reference files or a profile."""

from __future__ import annotations

import os
from collections.abc import Sequence

from voxclone.audio.io import load
from voxclone.convert.base import Converter
from voxclone.voices.profile import VoiceProfile, build_profile
from voxclone.voices.store import VoiceLibrary

VoiceRef = str | VoiceProfile | Sequence[str | os.PathLike]
"""A voice name in the library, a built profile, or a list of reference audio files."""


def resolve_profile(voice: VoiceRef, converter: Converter, library: VoiceLibrary) -> VoiceProfile:
    """The cached or freshly built profile of ``voice`` for ``converter``."""
    if isinstance(voice, VoiceProfile):
        return voice
    if isinstance(voice, str):
        return library.profile(voice, converter)
    files = list(voice)
    clips = [load(f) for f in files]
    return build_profile("reference", clips, converter)
