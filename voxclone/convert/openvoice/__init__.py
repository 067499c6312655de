"""OpenVoice V2 tone-colour converter: network, checkpoint loader, ONNX export and backends.

``OpenVoiceConverter.from_pretrained(model_dir, backend="torch" | "onnxruntime" | "openvino")``
reads the official ``config.json`` + ``checkpoint.pth``; the ``openvoice-v2`` engine serves the
pipelines once ``voxclone models fetch openvoice-v2`` has put them in VOXCLONE_HOME/models.
"""

from voxclone.convert.openvoice.converter import OpenVoiceConverter
from voxclone.convert.openvoice.engine import OpenVoiceEngine

__all__ = ["OpenVoiceConverter", "OpenVoiceEngine"]
