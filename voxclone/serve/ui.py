"""The web UI (Gradio): Generate, Voices, History, Utilities and Settings tabs."""

from __future__ import annotations

import functools
from collections.abc import Callable
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
    return [f"{t}:{c}" for t in tts_names() for c in converter_names() + ["none"]]


def build_ui(service: Service) -> gr.Blocks:
    """The Blocks app; every component a test drives has an ``elem_id``."""
    rt = service.runtime
    n_cand = service.config.max_candidates
    with gr.Blocks(title="voxclone", analytics_enabled=False) as demo:
        gr.Markdown("# voxclone\nClone a voice from a few seconds of speech. API docs: [/docs](/docs)")
        with gr.Tabs(selected="generate") as tabs:
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    with gr.Column(scale=2):
                        text = gr.Textbox(label="Text", lines=4, elem_id="gen-text")
                        split = gr.Textbox(label="Line delimiter (empty: sentences; \\n: lines)",
                                           elem_id="gen-split")
                        with gr.Row():
                            voice = gr.Dropdown(label="Voice", choices=act.voice_names(service),
                                                elem_id="gen-voice", allow_custom_value=True)
                            lang = gr.Dropdown(label="Language", choices=list(LANGUAGE_NAMES), value="en",
                                               elem_id="gen-lang")
                            engine = gr.Dropdown(label="Engine (tts:converter)", choices=_engines(),
                                                 value=f"{rt.tts}:{rt.converter}", elem_id="gen-engine")
                        with gr.Row():
                            preset = gr.Radio(list(PRESETS), value="fast", label="Preset", elem_id="gen-preset")
                            candidates = gr.Slider(1, n_cand, value=1, step=1, label="Candidates",
                                                   elem_id="gen-candidates")
                            seed = gr.Number(value=-1, precision=0, label="Seed (-1: none)", elem_id="gen-seed")
                        with gr.Row():
                            speed = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed", elem_id="gen-speed")
                            pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch (semitones)",
                                              elem_id="gen-pitch")
                            energy = gr.Slider(0.25, 2.0, value=1.0, step=0.05, label="Energy",
                                               elem_id="gen-energy")
                        fmt = gr.Dropdown(UI_FORMATS, value="wav", label="File format", elem_id="gen-format")
                        go = gr.Button("Generate", variant="primary", elem_id="gen-button")
                    with gr.Column(scale=2):
                        status = gr.Markdown(elem_id="gen-status")
                        players = [gr.Audio(label=f"candidate {i + 1}", type="filepath", visible=i == 0,
                                            interactive=False, elem_id=f"gen-audio-{i}") for i in range(n_cand)]
                        files = gr.File(label="Download", file_count="multiple", elem_id="gen-files")
                        plot = gr.Image(label="Waveform, spectrogram, pitch", type="filepath",
                                        elem_id="gen-plot")
            with gr.Tab("Voices", id="voices"):
                with gr.Row():
                    with gr.Column():
                        v_name = gr.Textbox(label="New voice name", elem_id="voice-name")
                        v_files = gr.File(label="Reference recordings", file_count="multiple",
                                          type="filepath", elem_id="voice-files")
                        v_mic = gr.Audio(label="…or record from the microphone", sources=["microphone"],
                                         type="filepath", elem_id="voice-mic")
                        v_add = gr.Button("Add voice", variant="primary", elem_id="voice-add")
                        v_status = gr.Markdown(elem_id="voice-status")
                    with gr.Column():
                        v_table = gr.Dataframe(headers=act.VOICE_COLUMNS, value=act.voice_rows(service),
                                               interactive=False, elem_id="voice-table")
                        v_select = gr.Dropdown(label="Voice", choices=act.voice_names(service),
                                               elem_id="voice-select")
                        with gr.Row():
                            v_show = gr.Button("Profile statistics", elem_id="voice-show")
                            v_delete = gr.Button("Delete", variant="stop", elem_id="voice-delete")
                        v_stats = gr.JSON(label="Profile", elem_id="voice-stats")
            with gr.Tab("History", id="history"):
                h_refresh = gr.Button("Refresh", elem_id="hist-refresh")
                h_table = gr.Dataframe(headers=act.HISTORY_COLUMNS, value=act.history_rows(service),
                                       interactive=False, elem_id="hist-table")
                with gr.Row():
                    h_id = gr.Number(label="Entry id", precision=0, elem_id="hist-id")
                    h_load = gr.Button("Play and read metadata", elem_id="hist-load")
                    h_copy = gr.Button("Copy settings to Generate", elem_id="hist-copy")
                h_audio = gr.Audio(label="Output", type="filepath", interactive=False, elem_id="hist-audio")
                h_meta = gr.JSON(label="Metadata read from the file", elem_id="hist-meta")
            with gr.Tab("Utilities", id="utilities"):
                with gr.Row():
                    with gr.Column():
                        u_file = gr.File(label="An output file: read its metadata", type="filepath",
                                         elem_id="util-file")
                        u_meta = gr.JSON(label="Metadata", elem_id="util-meta")
                    with gr.Column():
                        u_zip = gr.File(label="Voice archive (.zip from `voxclone voices export`)",
                                        type="filepath", file_types=[".zip"], elem_id="util-archive")
                        u_name = gr.Textbox(label="Import as (empty: archived name)", elem_id="util-name")
                        u_import = gr.Button("Import voice", elem_id="util-import")
                        u_status = gr.Markdown(elem_id="util-status")
            with gr.Tab("Settings", id="settings"):
                s_rate = gr.Dropdown([str(r) for r in OUTPUT_RATES], value=str(rt.output_sample_rate),
                                     label="Output sample rate (Hz)", elem_id="set-rate")
                s_volume = gr.Slider(-40, -3, value=rt.volume_db, step=1, label="Volume (output dBFS RMS)",
                                     elem_id="set-volume")
                s_engine = gr.Dropdown(_engines(), value=f"{rt.tts}:{rt.converter}", label="Default engine",
                                       elem_id="set-engine")
                s_save = gr.Button("Save settings", elem_id="set-save")
                s_status = gr.Markdown(elem_id="set-status")

        form = [text, split, voice, lang, engine, candidates, seed, speed, pitch, energy, fmt]

        @_friendly
        def on_generate(*values: Any) -> list[Any]:
            gen, plot_path, summary = act.generate(service, act.speech_job(*values))
            outs = [gr.Audio(value=str(p), label=act.candidate_label(i, v, s), visible=True)
                    for i, (v, s, p, _) in enumerate(gen.outputs)]
            outs += [gr.Audio(value=None, visible=False) for _ in range(n_cand - len(outs))]
            return [summary, *outs, [str(p) for _, _, p, _ in gen.outputs], str(plot_path),
                    act.history_rows(service)]

        go.click(on_generate, form, [status, *players, files, plot, h_table])
        preset.change(act.preset_candidates, preset, candidates)

        def voice_lists(selected: str | None = None) -> list[Any]:
            names = act.voice_names(service)
            return [act.voice_rows(service), gr.Dropdown(choices=names, value=selected),
                    gr.Dropdown(choices=names, value=selected)]

        @_friendly
        def on_add(name: str, paths: list[str] | None, mic: str | None) -> list[Any]:
            msg = act.add_voice(service, name, paths, mic)
            return [msg, *voice_lists(name.strip())]

        v_add.click(on_add, [v_name, v_files, v_mic], [v_status, v_table, v_select, voice])
        v_show.click(_friendly(lambda n: service.run_blocking(service.voice_stats, n or "")), v_select, v_stats)

        @_friendly
        def on_delete(name: str | None) -> list[Any]:
            service.library.remove(name or "")
            return [f"Deleted voice '{name}'.", *voice_lists()]

        v_delete.click(on_delete, v_select, [v_status, v_table, v_select, voice])
        h_refresh.click(lambda: act.history_rows(service), None, h_table)

        def on_row(evt: gr.SelectData) -> Any:
            row = evt.row_value if evt.row_value else None
            return row[0] if row else gr.skip()

        h_table.select(on_row, None, h_id)
        h_load.click(_friendly(lambda i: act.history_entry(service, i)), h_id, [h_audio, h_meta])

        @_friendly
        def on_copy(record_id: float | None) -> list[Any]:
            s = act.copied_settings(service, record_id)
            keys = ["text", "split", "voice", "lang", "engine", "candidates", "seed", "speed", "pitch",
                    "energy", "format"]
            return [s[k] for k in keys] + [gr.Tabs(selected="generate")]

        h_copy.click(on_copy, h_id, [*form, tabs])
        u_file.change(_friendly(lambda p: act.readable_metadata(service, p) if p else None), u_file, u_meta)

        @_friendly
        def on_import(path: str | None, name: str) -> list[Any]:
            if not path:
                raise VoxcloneError("Choose a voice archive (.zip) first.")
            info = service.run_blocking(service.import_voice, path, (name or "").strip() or None)
            return [f"Imported voice '{info.name}': {len(info.clips)} clip(s).", *voice_lists(info.name)]

        u_import.click(on_import, [u_zip, u_name], [u_status, v_table, v_select, voice])

        @_friendly
        def on_settings(rate: str, volume: float, eng: str) -> list[Any]:
            tts, _, conv = eng.partition(":")
            new = service.update_runtime(output_sample_rate=int(rate), volume_db=float(volume),
                                         tts=tts, converter=conv)
            return [f"Saved: {new.output_sample_rate} Hz, {new.volume_db:g} dBFS, "
                    f"engine {new.tts}:{new.converter}.", gr.Dropdown(value=eng)]

        s_save.click(on_settings, [s_rate, s_volume, s_engine], [s_status, engine])
        demo.load(lambda: [*voice_lists(), act.history_rows(service)], None,
                  [v_table, v_select, voice, h_table])
    return demo
