"""Voices: profiles built from reference clips, and the on-disk voice library."""

from voxclone.voices.archive import ARCHIVE_FORMAT_VERSION
from voxclone.voices.index import ClipInfo, VoiceInfo
from voxclone.voices.names import validate_name
from voxclone.voices.profile import (MIN_SPEECH_S, PROFILE_FORMAT_VERSION, VoiceProfile,
                                     build_profile, check_reference)
from voxclone.voices.store import VoiceLibrary

__all__ = ["ARCHIVE_FORMAT_VERSION", "ClipInfo", "MIN_SPEECH_S", "PROFILE_FORMAT_VERSION",
           "VoiceInfo", "VoiceLibrary", "VoiceProfile", "build_profile", "check_reference",
           "validate_name"]
