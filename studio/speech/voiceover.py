"""Record a voiceover: the microphone's PCM (the recorder's audio path, ``studio.capture.audio``)
written to a WAV file while the creator speaks over the reel.

    rec = VoiceoverRecorder(MicrophoneInput(), cache / "takes" / "voice.wav")
    rec.start() ... rec.stop()   # -> (path, duration_us); the EditorSession imports it as a "voice" track

The file is written as the chunks arrive (from the input's own thread), so a long narration never
sits in memory; the music is ducked under it at render time (render_graph.DUCKING).
"""

from __future__ import annotations

import threading
import wave
from pathlib import Path

from studio.editor.document import US
from studio.speech import SpeechError


class VoiceoverRecorder:
    def __init__(self, source, path: Path):  # noqa: ANN001 - studio.capture.audio.AudioInput
        self.source, self.path = source, Path(path)
        self._lock = threading.Lock()
        self._wav: wave.Wave_write | None = None
        self._frames = 0
        self.error: BaseException | None = None

    @property
    def recording(self) -> bool:
        return self._wav is not None

    def start(self) -> None:
        """Open the file and start the input. Raises SpeechError (the folder is not writable, no microphone)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            w = wave.open(str(self.path), "wb")
        except OSError as e:
            raise SpeechError(f"The voiceover cannot be recorded: {e.strerror or e}.") from e
        w.setnchannels(self.source.channels)
        w.setsampwidth(2)
        w.setframerate(self.source.sample_rate)
        self._wav, self._frames = w, 0
        try:
            self.source.start(self._sink)
        except Exception as e:  # noqa: BLE001 - no or busy microphone: the sentence, and no file left behind
            self._close()
            self.path.unlink(missing_ok=True)
            raise SpeechError(f"The microphone could not be started ({e}).") from e

    def _sink(self, pcm: bytes, _ts: float) -> None:
        with self._lock:
            if self._wav is None:
                return
            try:
                self._wav.writeframes(pcm)
                self._frames += len(pcm) // (2 * self.source.channels)
            except OSError as e:   # disk full: stop writing, say so at stop()
                self.error = e

    def _close(self) -> None:
        with self._lock:
            w, self._wav = self._wav, None
        if w is not None:
            w.close()

    def stop(self) -> tuple[Path, int]:
        """Stop the input, finish the file: (path, duration_us). Raises SpeechError when nothing usable was heard."""
        self.source.stop()
        self._close()
        if self.error is not None:
            raise SpeechError(f"The voiceover could not be written: {getattr(self.error, 'strerror', None) or self.error}.")
        duration = self._frames * US // self.source.sample_rate
        if duration < 100_000:
            self.path.unlink(missing_ok=True)
            raise SpeechError("The voiceover was too short to keep; hold Record while you speak.")
        return self.path, duration
