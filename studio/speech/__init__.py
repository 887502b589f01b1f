"""Speech on the creator's machine: transcription engines, voice activity, subtitles out.

    engine = choose_engine("auto", layout)            # Whisper when a model folder is set up, else built-in
    words = transcribe_edit(edit, assets, engine, progress=..., cancel=event)   # timeline-timed words
    proposal = propose_silence_cuts(edit, assets, min_silence_us=700_000, padding_us=150_000)
    write_subtitles(edit.captions, Path("reel.vtt"))

Nothing here is downloaded at run time: the built-in engine is pocketsphinx with the English model
inside its wheel; Whisper (faster-whisper) runs only from a model folder the creator provides.
ffmpeg is started only through ``studio.media.ffmpeg``. No Qt widgets.
"""

from studio.errors import StudioError


class SpeechError(StudioError, RuntimeError):
    """Transcription or silence detection could not run; ``str(e)`` is for the creator."""


class SpeechCancelled(SpeechError):
    def __init__(self, message: str = "Transcription was cancelled."):
        super().__init__(message)
