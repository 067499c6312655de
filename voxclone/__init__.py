"""voxclone: local-first voice cloning — speak text or convert speech in a voice cloned from seconds of it."""

import warnings

# pyworld, pysptk and webrtcvad import pkg_resources, which warns on every start.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

__version__ = "0.1.0"
