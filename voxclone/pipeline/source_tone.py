"""Source-speaker features of a base TTS voice, for converters that want them (OpenVoice).

The voice reads a fixed passage of about 15 s once; the converter's features of that speech are
cached in memory and on disk, keyed by TTS engine, voice, language and converter version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from voxclone.audio.types import Audio
from voxclone.convert.base import Converter, Features
from voxclone.pipeline.cache_files import read_json, write_json

PASSAGES = {
    "en": "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
          "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
          "Rice is often served in round bowls. The juice of lemons makes fine punch.",
    "es": "El viento del norte sopla con fuerza sobre las colinas. Los niños juegan en el parque "
          "hasta que cae la tarde. Mañana iremos al mercado a comprar pan, fruta y queso fresco.",
    "fr": "Le vent du nord souffle fort sur les collines. Les enfants jouent dans le parc jusqu'au "
          "soir. Demain nous irons au marché acheter du pain, des fruits et du fromage frais.",
    "zh": "北风和太阳正在争论谁的本领大。这时候来了一个走路的人，他身上穿着一件厚大衣。"
          "他们俩商量好了，谁能先叫这个走路的人脱下他的大衣，就算谁的本领大。",
    "ja": "きたかぜと たいようが、どちらが つよいか いいあらそって いました。そこへ、あつい がいとうを "
          "きた たびびとが やってきました。さきに たびびとの がいとうを ぬがせたほうが かちです。",
    "ko": "북풍과 해님이 서로 힘이 세다고 다투고 있었습니다. 그때 두꺼운 외투를 입은 나그네가 "
          "지나갔습니다. 둘은 나그네의 외투를 먼저 벗기는 쪽이 이기기로 했습니다.",
}
SOURCE_VERSION = 1
_MEMORY: dict[str, Features] = {}


def base_voice_features(converter: Converter, tts_name: str, voice_id: str, lang: str,
                        speak: Callable[[str], Audio], cache_dir: Path | None) -> Features:
    """``converter.features`` of base voice ``voice_id`` reading the passage of ``lang``;
    ``speak(text)`` synthesises with that voice."""
    text = PASSAGES.get(lang, PASSAGES["en"])
    key = json.dumps([SOURCE_VERSION, tts_name, voice_id, lang, converter.name, converter.version, text])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    if digest in _MEMORY:
        return _MEMORY[digest]
    path = Path(cache_dir) / "source-features" / f"{digest}.json" if cache_dir else None
    features = _read(path)
    if features is None:
        features = converter.features([speak(text)])
        if path is not None:
            write_json(path, features)
    _MEMORY[digest] = features
    return features


def _read(path: Path | None) -> Features | None:
    data = read_json(path)  # a damaged cache entry is recomputed
    return data if isinstance(data, dict) else None


