"""``voxclone serve``: an OpenAI-compatible HTTP API, a web UI and a history of generations."""

from voxclone.serve.app import create_app
from voxclone.serve.config import RuntimeSettings, ServeConfig
from voxclone.serve.history import GenerationRecord, History
from voxclone.serve.jobs import PRESETS, SpeechJob
from voxclone.serve.service import Generation, Service

__all__ = ["Generation", "GenerationRecord", "History", "PRESETS", "RuntimeSettings", "ServeConfig",
           "Service", "SpeechJob", "create_app"]
