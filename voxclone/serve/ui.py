"""The web UI (Gradio): Generate, Voices, History, Utilities, Settings and Training tabs on one page.

Layout lives in one small function per tab; :func:`_wire` connects the buttons to
:mod:`voxclone.serve.ui_actions`. Every component a test drives has an ``elem_id``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace as NS
from typing import Any

import gradio as gr

from voxclone.convert.base import converter_names
from voxclone.errors import VoxcloneError
from voxclone.serve import ui_actions as act
from voxclone.serve.config import OUTPUT_RATES
from voxclone.serve.jobs import PRESETS
from voxclone.serve.service import Service
from voxclone.text.languages import LANGUAGE_NAMES
from voxclone.tts.base import tts_names

UI_FORMATS = ["wav", "mp3", "flac", "opus"]
FORM_KEYS = ["text", "split", "voice", "lang", "engine", "candidates", "seed", "speed", "pitch",
             "energy", "format", "captions"]


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Show voxclone errors as a message in the page instead of a crash."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except VoxcloneError as exc:
            raise gr.Error(str(exc)) from None

    return wrapper


def _engines() -> list[str]:
    return [act.AUTO_LABEL] + [f"{t}:{c}" for t in tts_names() for c in converter_names() + ["none"]]


def build_ui(service: Service) -> gr.Blocks:
    """The Blocks app of ``service``."""
    with gr.Blocks(title="voxclone", analytics_enabled=False) as demo:
        gr.Markdown("# voxclone\nClone a voice from a few seconds of speech. API docs: [/docs](/docs)")
        with gr.Tabs(selected="generate") as tabs:
            with gr.Tab("Generate", id="generate"):
                gen = _generate_tab(service)
            with gr.Tab("Voices", id="voices"):
                voices = _voices_tab(service)
            with gr.Tab("History", id="history"):
                hist = _history_tab(service)
            with gr.Tab("Utilities", id="utilities"):
                util = _utilities_tab()
            with gr.Tab("Settings", id="settings"):
                sets = _settings_tab(service)
            with gr.Tab("Training", id="training"):
                train = _training_tab()
        _wire(service, demo, tabs, gen, voices, hist, util, sets)
        _wire_training(service, demo, train)
    return demo


def _generate_tab(service: Service) -> NS:
    rt, n = service.runtime, service.config.max_candidates
    with gr.Row():
        with gr.Column(scale=2):
            f = NS(text=gr.Textbox(label="Text", lines=4, elem_id="gen-text"),
                   split=gr.Textbox(label="Line delimiter (empty: sentences; \\n: lines)", elem_id="gen-split"))
            with gr.Row():
                f.voice = gr.Dropdown(label="Voice", choices=act.voice_names(service), elem_id="gen-voice",
                                      allow_custom_value=True)
                f.lang = gr.Dropdown(label="Language", choices=list(LANGUAGE_NAMES), value="en", elem_id="gen-lang")
                f.engine = gr.Dropdown(label="Engine (tts:converter)", choices=_engines(),
                                       value=act.engine_label(rt.engine), elem_id="gen-engine")
            with gr.Row():
                preset = gr.Radio(list(PRESETS), value="fast", label="Preset", elem_id="gen-preset")
                f.candidates = gr.Slider(1, n, value=1, step=1, label="Candidates", elem_id="gen-candidates")
                f.seed = gr.Number(value=-1, precision=0, label="Seed (-1: none)", elem_id="gen-seed")
            with gr.Row():
                f.speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed", elem_id="gen-speed")
                f.pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch (semitones)", elem_id="gen-pitch")
                f.energy = gr.Slider(0.25, 2.0, value=1.0, step=0.05, label="Energy", elem_id="gen-energy")
            with gr.Row():
                f.format = gr.Dropdown(UI_FORMATS, value="wav", label="File format", elem_id="gen-format")
                f.captions = gr.Checkbox(value=False, label="Captions (word times)", elem_id="gen-captions")
            go = gr.Button("Generate", variant="primary", elem_id="gen-button")
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="gen-status")
            players = [gr.Audio(label=f"candidate {i + 1}", type="filepath", visible=i == 0, interactive=False,
                                elem_id=f"gen-audio-{i}") for i in range(n)]
            captions = gr.Textbox(label="Captions", lines=6, interactive=False, visible=True,
                                  elem_id="gen-captions-text")
            files = gr.File(label="Download", file_count="multiple", elem_id="gen-files")
            plot = gr.Image(label="Waveform, spectrogram, pitch", type="filepath", elem_id="gen-plot")
    return NS(form=f, preset=preset, go=go, status=status, players=players, captions=captions,
              files=files, plot=plot)


def _voices_tab(service: Service) -> NS:
    with gr.Row():
        with gr.Column():
            name = gr.Textbox(label="New voice name", elem_id="voice-name")
            files = gr.File(label="Reference recordings", file_count="multiple", type="filepath",
                            elem_id="voice-files")
            mic = gr.Audio(label="…or record from the microphone", sources=["microphone"], type="filepath",
                           elem_id="voice-mic")
            consent = gr.Textbox(label="Consent of the speaker (who agreed to what, and when); "
                                 "stored with the voice and carried into every output",
                                 lines=2, elem_id="voice-consent")
            add = gr.Button("Add voice", variant="primary", elem_id="voice-add")
            status = gr.Markdown(elem_id="voice-status")
        with gr.Column():
            table = gr.Dataframe(headers=act.VOICE_COLUMNS, value=act.voice_rows(service), interactive=False,
                                 elem_id="voice-table")
            select = gr.Dropdown(label="Voice", choices=act.voice_names(service), elem_id="voice-select")
            with gr.Row():
                show = gr.Button("Profile statistics", elem_id="voice-show")
                adapt = gr.Button("Adapt to Kokoro (for kokoro:adapted)", elem_id="voice-adapt")
                delete = gr.Button("Delete", variant="stop", elem_id="voice-delete")
            stats = gr.JSON(label="Profile", elem_id="voice-stats")
    return NS(name=name, files=files, mic=mic, consent=consent, add=add, status=status, table=table, select=select,
              show=show, adapt=adapt, delete=delete, stats=stats)


def _history_tab(service: Service) -> NS:
    refresh = gr.Button("Refresh", elem_id="hist-refresh")
    table = gr.Dataframe(headers=act.HISTORY_COLUMNS, value=act.history_rows(service), interactive=False,
                         elem_id="hist-table")
    with gr.Row():
        entry = gr.Number(label="Entry id (or click a row)", precision=0, elem_id="hist-id")
        load = gr.Button("Play and read metadata", elem_id="hist-load")
        copy = gr.Button("Copy settings to Generate", elem_id="hist-copy")
    audio = gr.Audio(label="Output", type="filepath", interactive=False, elem_id="hist-audio")
    meta = gr.JSON(label="Metadata read from the file", elem_id="hist-meta")
    return NS(refresh=refresh, table=table, entry=entry, load=load, copy=copy, audio=audio, meta=meta)


def _utilities_tab() -> NS:
    with gr.Row():
        with gr.Column():
            file = gr.File(label="An output file: read its metadata", type="filepath", elem_id="util-file")
            meta = gr.JSON(label="Metadata", elem_id="util-meta")
        with gr.Column():
            archive = gr.File(label="Voice archive (.zip from `voxclone voices export`)", type="filepath",
                              file_types=[".zip"], elem_id="util-archive")
            name = gr.Textbox(label="Import as (empty: archived name)", elem_id="util-name")
            do_import = gr.Button("Import voice", elem_id="util-import")
            status = gr.Markdown(elem_id="util-status")
    return NS(file=file, meta=meta, archive=archive, name=name, do_import=do_import, status=status)


def _settings_tab(service: Service) -> NS:
    rt = service.runtime
    rate = gr.Dropdown([str(r) for r in OUTPUT_RATES], value=str(rt.output_sample_rate),
                       label="Output sample rate (Hz)", elem_id="set-rate")
    volume = gr.Slider(-40, -3, value=rt.volume_db, step=1, label="Volume (output dBFS RMS)", elem_id="set-volume")
    engine = gr.Dropdown(_engines(), value=act.engine_label(rt.engine), label="Default engine",
                         elem_id="set-engine")
    save = gr.Button("Save settings", elem_id="set-save")
    status = gr.Markdown(elem_id="set-status")
    return NS(rate=rate, volume=volume, engine=engine, save=save, status=status)


def _training_tab() -> NS:
    gr.Markdown("Train a codec language model on one voice (a laptop CPU trains a small model that "
                "replays its training data, not a model that clones unseen voices).")
    with gr.Row():
        name = gr.Textbox(label="Project name", value="my-voice", elem_id="train-name")
        voice = gr.Dropdown([], label="Library voice", elem_id="train-voice")
        folder = gr.Textbox(label="…or a dataset folder (LJSpeech, VCTK, LibriTTS)", elem_id="train-folder")
    prepare = gr.Button("Prepare dataset", elem_id="train-prepare")
    with gr.Row():
        size = gr.Dropdown(["tiny", "small", "base"], value="small", label="Model size", elem_id="train-size")
        steps = gr.Number(1000, label="Steps", precision=0, elem_id="train-steps")
        lr = gr.Number(3e-4, label="Learning rate", elem_id="train-lr")
    configure = gr.Button("Generate configuration", elem_id="train-configure")
    yaml = gr.Code(language="yaml", label="Configuration", elem_id="train-yaml")
    with gr.Row():
        start = gr.Button("Start", elem_id="train-start")
        resume = gr.Button("Resume", elem_id="train-resume")
        stop = gr.Button("Stop", elem_id="train-stop")
    status = gr.Markdown(elem_id="train-status")
    plot = gr.Image(label="Loss", elem_id="train-plot")
    with gr.Row():
        text = gr.Textbox(label="Speak with the latest checkpoint", elem_id="train-text")
        speak = gr.Button("Speak", elem_id="train-speak")
    audio = gr.Audio(label="Output", elem_id="train-audio")
    timer = gr.Timer(5.0)
    return NS(name=name, voice=voice, folder=folder, prepare=prepare, size=size, steps=steps, lr=lr,
              configure=configure, yaml=yaml, start=start, resume=resume, stop=stop, status=status,
              plot=plot, text=text, speak=speak, audio=audio, timer=timer)


def _wire_training(service: Service, demo: gr.Blocks, t: NS) -> None:
    """Training tab: every action runs the voxclone CLI in a child process (serve does not import
    voxclone.train) and reads the run folder."""
    from voxclone.serve.ui_train import TrainingRuns

    runs = TrainingRuns(service.settings.home / "training")

    def progress(name: str) -> list[Any]:
        try:
            plot = runs.loss_plot(name, service.root / f"train-{name}.png")
            return [runs.progress(name), str(plot) if plot else None]
        except VoxcloneError as exc:
            return [str(exc), None]

    @_friendly
    def on_speak(name: str, text: str, voice: str | None) -> str:
        from voxclone.audio.io import save
        from voxclone.pipeline import PipelineConfig, VoiceCloner

        ckpt = runs.checkpoint(name)
        if not ckpt or not voice:
            raise VoxcloneError("Needs a checkpoint of this project and a library voice for the prompt.")
        cloner = VoiceCloner(PipelineConfig(tts=f"codec-lm:{ckpt}", converter="none"), service.library)
        audio = service.run_blocking(cloner.say, text, voice)
        return str(save(audio, service.output_dir / f"train-{name}.wav"))

    t.prepare.click(_friendly(lambda n, v, f: runs.prepare(n, v or None, f or None)),
                    [t.name, t.voice, t.folder], t.status)
    t.configure.click(_friendly(lambda n, s, k, r: runs.configure(n, s, int(k), float(r))),
                      [t.name, t.size, t.steps, t.lr], t.yaml)
    t.start.click(_friendly(lambda n: runs.start(n)), t.name, t.status)
    t.resume.click(_friendly(lambda n: runs.start(n, resume=True)), t.name, t.status)
    t.stop.click(_friendly(runs.stop), t.name, t.status)
    t.timer.tick(progress, t.name, [t.status, t.plot])
    t.speak.click(on_speak, [t.name, t.text, t.voice], t.audio)
    demo.load(lambda: gr.Dropdown(choices=act.voice_names(service)), None, t.voice)


def _wire(service: Service, demo: gr.Blocks, tabs: gr.Tabs, gen: NS, voices: NS, hist: NS, util: NS,
          sets: NS) -> None:
    """Connect every button and load event."""
    form = [getattr(gen.form, k) for k in FORM_KEYS]
    n = service.config.max_candidates

    @_friendly
    def on_generate(*values: Any) -> list[Any]:
        job = act.speech_job(*values)
        g, plot_path, summary = act.generate(service, job)
        outs = [gr.Audio(value=str(p), label=act.candidate_label(i, v, s), visible=True)
                for i, (v, s, p, _) in enumerate(g.outputs)]
        outs += [gr.Audio(value=None, visible=False) for _ in range(n - len(outs))]
        text, caption_files = act.captions(g, job)
        files = [str(p) for _, _, p, _ in g.outputs] + [str(p) for p in caption_files]
        return [summary, *outs, text, files, str(plot_path), act.history_rows(service)]

    gen.go.click(on_generate, form, [gen.status, *gen.players, gen.captions, gen.files, gen.plot,
                                     hist.table])
    gen.preset.change(act.preset_candidates, gen.preset, gen.form.candidates)
    lists = [voices.table, voices.select, gen.form.voice]

    def voice_lists(selected: str | None = None) -> list[Any]:
        names = act.voice_names(service)
        return [act.voice_rows(service), gr.Dropdown(choices=names, value=selected),
                gr.Dropdown(choices=names, value=selected)]

    @_friendly
    def on_add(name: str, paths: list[str] | None, mic: str | None, consent: str | None) -> list[Any]:
        return [act.add_voice(service, name, paths, mic, consent), *voice_lists((name or "").strip())]

    @_friendly
    def on_delete(name: str | None) -> list[Any]:
        service.library.remove(name or "")
        return [f"Deleted voice '{name}'.", *voice_lists()]

    @_friendly
    def on_import(path: str | None, name: str) -> list[Any]:
        if not path:
            raise VoxcloneError("Choose a voice archive (.zip) first.")
        info = service.run_blocking(service.import_voice, path, (name or "").strip() or None)
        return [f"Imported voice '{info.name}': {len(info.clips)} clip(s).", *voice_lists(info.name)]

    voices.add.click(on_add, [voices.name, voices.files, voices.mic, voices.consent],
                     [voices.status, *lists])
    voices.show.click(_friendly(lambda v: service.run_blocking(service.voice_stats, v or "")),
                      voices.select, voices.stats)
    voices.adapt.click(_friendly(lambda v: service.run_blocking(service.adapt_voice, v or "")),
                       voices.select, voices.stats)
    voices.delete.click(on_delete, voices.select, [voices.status, *lists])
    util.do_import.click(on_import, [util.archive, util.name], [util.status, *lists])
    util.file.change(_friendly(lambda p: act.readable_metadata(service, p) if p else None), util.file, util.meta)

    def on_row(evt: gr.SelectData) -> Any:
        return evt.row_value[0] if evt.row_value else gr.skip()

    @_friendly
    def on_copy(record_id: float | None) -> list[Any]:
        values = act.copied_settings(service, record_id)
        return [values[k] for k in FORM_KEYS] + [gr.Tabs(selected="generate")]

    hist.refresh.click(lambda: act.history_rows(service), None, hist.table)
    hist.table.select(on_row, None, hist.entry)
    hist.load.click(_friendly(lambda i: act.history_entry(service, i)), hist.entry, [hist.audio, hist.meta])
    hist.copy.click(on_copy, hist.entry, [*form, tabs])

    @_friendly
    def on_settings(rate: str, volume: float, engine: str) -> list[Any]:
        tts, conv = act.engine_setting(engine)
        new = service.update_runtime(output_sample_rate=int(rate), volume_db=float(volume), tts=tts,
                                     converter=conv)
        return [f"Saved: {new.output_sample_rate} Hz, {new.volume_db:g} dBFS, engine "
                f"{act.engine_label(new.engine)}.", gr.Dropdown(value=engine)]

    sets.save.click(on_settings, [sets.rate, sets.volume, sets.engine], [sets.status, gen.form.engine])
    demo.load(lambda: [*voice_lists(), act.history_rows(service)], None, [*lists, hist.table])
