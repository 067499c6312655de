"""Voice names: what is allowed, so a name is always a safe folder name."""

from __future__ import annotations

import re

from voxclone.errors import InvalidVoiceName

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def validate_name(name: object) -> str:
    """Return ``name`` unchanged if it is a valid voice name, else raise InvalidVoiceName.

    Allowed: 1-64 characters, letters, digits, space, ``_``, ``.`` and ``-``, starting with a
    letter or digit; never ``..``, never a path separator, no trailing space or dot.
    """
    if not isinstance(name, str) or not name:
        raise InvalidVoiceName("A voice name is required: use 1-64 letters, digits, '_', '-', '.' "
                               "or spaces, e.g. 'alice'.")
    if not NAME_PATTERN.fullmatch(name) or ".." in name or name[-1] in " .":
        raise InvalidVoiceName(f"Invalid voice name {name!r}: use 1-64 letters, digits, '_', '-', "
                               "'.' or spaces, starting with a letter or digit, without '..', "
                               "path separators or a trailing dot/space.")
    return name
