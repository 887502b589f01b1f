"""Speech-to-text engines behind one interface, and which one to use.

    engine = choose_engine("auto", layout)     # "builtin", "whisper" or "auto"; raises SpeechError
    words = engine.transcribe(samples, progress=lambda f: ..., cancel=event)   # [(text, start_us, end_us)]

* ``BuiltinEngine``: pocketsphinx 5 with the US English model inside its wheel. Always there.
  The sound is split at pauses (``vad.speech_spans``) and each utterance decoded on its own; word
  times come from the decoder's segments (10 ms frames).
* ``WhisperEngine``: faster-whisper, only from a model folder the creator provides (a CTranslate2
  conversion: ``model.bin`` + ``config.json`` + tokenizer), never downloaded. Where it is looked
  for: ``$STUDIO_WHISPER_MODEL``, then the Settings key ``speech/whisper_model``, then
  ``<data>/models/whisper``. "auto" picks it when it is usable.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import queue
import re
import threading
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from studio.editor.document import US
from studio.speech import SpeechCancelled, SpeechError
from studio.speech.audio import RATE, Cancel, is_cancelled
from studio.speech.vad import FRAME, frame_levels, speech_spans

log = logging.getLogger(__name__)

ENV_WHISPER_MODEL = "STUDIO_WHISPER_MODEL"
SETTINGS_KEY = "speech/whisper_model"
ENGINES = ("builtin", "whisper")
Word = tuple[str, int, int]
Progress = Callable[[float], None] | None
MAX_WORKERS = 4
MAX_UTTERANCE_US = 12_000_000   # longer stretches of speech are decoded in pieces, cut at their quietest
DECODER_LIMITS = {"maxhmmpf": 3000, "maxwpf": 10}
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+)$")


def split_long(samples: np.ndarray, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans no longer than MAX_UTTERANCE_US: a long one is cut at its quietest 10 ms in the last third."""
    out = []
    for a, b in spans:
        while b - a > MAX_UTTERANCE_US:
            lo, hi = a + MAX_UTTERANCE_US * 2 // 3, a + MAX_UTTERANCE_US
            levels = frame_levels(samples[lo * RATE // US: hi * RATE // US])
            cut = lo + int(np.argmin(levels)) * FRAME * US // RATE if len(levels) else hi
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


class Engine(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray, *, progress: Progress = None, cancel: Cancel = None) -> list[Word]:
        """Words of 16 kHz mono int16 ``samples`` with times from their start. Raises SpeechError/SpeechCancelled."""


class BuiltinEngine:
    name = "builtin"
    label = "Built-in (English)"

    def __init__(self, workers: int | None = None) -> None:
        # pocketsphinx lets go of the GIL while decoding: one decoder per core, utterances shared out.
        self.workers = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self._decoders: queue.Queue = queue.Queue()
        self._made = 0
        self._lock = threading.Lock()

    def _take_decoder(self):  # noqa: ANN202
        with self._lock:
            if self._decoders.empty() and self._made < self.workers:
                self._made += 1
                try:
                    from pocketsphinx import Decoder
                except ImportError as e:   # a broken install, not a choice
                    raise SpeechError("The built-in speech engine (pocketsphinx) is not installed; "
                                      "reinstall Reel Studio with `make setup`.") from e
                # A bounded search (at most DECODER_LIMITS active HMMs / word exits per frame) is 1.5-2x
                # faster than the default with the same word error rate on our festival test speech.
                return Decoder(loglevel="FATAL", **DECODER_LIMITS)
        return self._decoders.get()

    def _decode(self, samples: np.ndarray, span: tuple[int, int], cancel: Cancel) -> list[Word]:
        if is_cancelled(cancel):
            raise SpeechCancelled()
        a, b = span
        decoder = self._take_decoder()
        try:
            frame_us = US // int(decoder.config["frate"])
            # One call per utterance (full_utt): the cepstral mean is then taken over the whole utterance
            # instead of estimated live, which halves the word error rate here. Utterances are at most
            # MAX_UTTERANCE_US, so cancel answers within a few seconds.
            decoder.start_utt()
            try:
                decoder.process_raw(samples[a * RATE // US: b * RATE // US].tobytes(), False, True)
            finally:
                decoder.end_utt()
            words = []
            for seg in decoder.seg():
                text = re.sub(r"\(\d+\)$", "", seg.word)
                if text and not _FILLER.match(text):
                    words.append((text, a + seg.start_frame * frame_us, a + (seg.end_frame + 1) * frame_us))
            return words
        finally:
            self._decoders.put(decoder)

    def transcribe(self, samples: np.ndarray, *, progress: Progress = None, cancel: Cancel = None) -> list[Word]:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        spans = split_long(samples, speech_spans(samples))
        total = sum(b - a for a, b in spans) or 1
        done, words = 0, []
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sphinx") as pool:
            futures = {pool.submit(self._decode, samples, span, cancel): span for span in spans}
            try:
                for f in as_completed(futures):
                    words += f.result()
                    a, b = futures[f]
                    done += b - a
                    if progress is not None:
                        progress(min(1.0, done / total))
                    if is_cancelled(cancel):      # asked while utterances were decoding: drop them all
                        raise SpeechCancelled()
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        if progress is not None:
            progress(1.0)
        return sorted(words, key=lambda w: w[1])


def whisper_model_dir(layout=None) -> Path | None:  # noqa: ANN001 - DataLayout
    """The Whisper model folder the creator configured, or None (env, then Settings, then data/models)."""
    candidates: list[str | os.PathLike] = []
    if os.environ.get(ENV_WHISPER_MODEL):
        candidates.append(os.environ[ENV_WHISPER_MODEL])
    if layout is not None:
        try:
            from PySide6.QtCore import QSettings

            value = QSettings(str(layout.settings_file), QSettings.IniFormat).value(SETTINGS_KEY, "")
            if value:
                candidates.append(str(value))
        except Exception:  # noqa: BLE001 - unreadable settings: as if unset
            log.info("could not read %s from the settings", SETTINGS_KEY, exc_info=True)
        candidates.append(layout.data / "models" / "whisper")
    for c in candidates:
        p = Path(c).expanduser()
        if p.is_dir():
            return p
    return None


def whisper_status(layout=None) -> tuple[bool, str]:  # noqa: ANN001
    """(usable, the sentence saying why not / what it will use)."""
    folder = whisper_model_dir(layout)
    if folder is None:
        return False, ("Whisper needs a model folder: put a faster-whisper model (model.bin, config.json) in "
                       f"{(layout.data / 'models' / 'whisper') if layout is not None else 'data/models/whisper'}, "
                       f"or set ${ENV_WHISPER_MODEL} or Settings › Speech to its folder.")
    if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
        return False, f"The Whisper model folder {folder} has no model.bin and config.json; it is not a faster-whisper model."
    if importlib.util.find_spec("faster_whisper") is None:
        return False, ("Whisper is not installed in this Reel Studio (the faster-whisper package is missing); "
                       "the built-in engine is used instead.")
    return True, f"Whisper, from {folder}"


class WhisperEngine:
    name = "whisper"
    label = "Whisper"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._model = None

    def transcribe(self, samples: np.ndarray, *, progress: Progress = None, cancel: Cancel = None) -> list[Word]:
        from faster_whisper import WhisperModel   # optional: only reached when whisper_status() said yes

        if self._model is None:
            self._model = WhisperModel(str(self.folder), device="cpu", compute_type="int8", local_files_only=True)
        audio = samples.astype(np.float32) / 32768.0
        total = max(len(samples) / RATE, 1e-6)
        segments, _info = self._model.transcribe(audio, language="en", word_timestamps=True, vad_filter=True)
        words = []
        for seg in segments:   # a generator: decoding happens as we iterate, so cancel works between segments
            if is_cancelled(cancel):
                raise SpeechCancelled()
            for w in seg.words or []:
                text = w.word.strip()
                if text:
                    words.append((text, round(w.start * US), max(round(w.end * US), round(w.start * US) + 1)))
            if progress is not None:
                progress(min(1.0, seg.end / total))
        if progress is not None:
            progress(1.0)
        return words


_builtin = BuiltinEngine()


def choose_engine(name: str | None = "auto", layout=None) -> Engine:  # noqa: ANN001
    """The engine to transcribe with: "builtin", "whisper" (SpeechError with the reason when it cannot run)
    or "auto"/None (Whisper when usable, else built-in)."""
    name = (name or "auto").lower()
    if name not in (*ENGINES, "auto"):
        raise SpeechError(f"Unknown speech engine “{name}”; choose builtin or whisper.")
    if name in ("whisper", "auto"):
        ok, why = whisper_status(layout)
        if ok:
            return WhisperEngine(whisper_model_dir(layout))
        if name == "whisper":
            raise SpeechError(why)
    return _builtin
