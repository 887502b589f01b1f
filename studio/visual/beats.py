"""Beats and onsets of a music track, and "Cut to the beat" — numpy only (no librosa in the bundle).

    analysis = analyse_file(path)                 # Beats(tempo_bpm, beats_us, onsets_us)
    edit, report = cut_to_the_beat(edit, music_id, analysis, take_scores)
    edit, report = beat_cuts_draft(studio, draft, edit, "song.mp3" | asset_id)

Onsets: spectral flux of the log-magnitude spectrum (STFT at 22.05 kHz, 1024-point Hann, 256 hop),
half-wave rectified and summed over frequency, peaks picked above a moving threshold. Tempo: the
autocorrelation of that onset envelope between 60 and 200 BPM, weighted toward 120 BPM (a
log-normal prior, as in Ellis 2007 and librosa), refined between lags. Beat phase: the offset whose
comb of beats collects the most onset strength; each beat then moves to the strongest onset
within a tenth of a period and finally to the attack itself (the steepest rise of a 3 ms energy
envelope), so cuts land on the hit, not on an analysis frame. Trackers sometimes lock onto off-beats:
the onsets are kept so the creator can snap to either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from studio.drafts import DraftError
from studio.editor.document import US, Edit, EditError, add_music, music_length_us, update_music, validate
from studio.errors import StudioError
from studio.media import ffmpeg
from studio.media.probe import MediaError

log = logging.getLogger(__name__)

RATE = 22_050
N_FFT = 1024
HOP = 256
TEMPO_RANGE = (60.0, 200.0)
TEMPO_PRIOR_BPM = 120.0
MAX_ANALYSIS_S = 600            # ten minutes of song is plenty to find its beat


class BeatError(StudioError, RuntimeError):
    """The music cannot be analysed or the cuts cannot be placed; ``str(e)`` is for the creator."""


@dataclass
class Beats:
    tempo_bpm: float
    beats_us: list[int] = field(default_factory=list)      # song times
    onsets_us: list[int] = field(default_factory=list)


def load_mono(path: Path, *, seconds: float = MAX_ANALYSIS_S) -> np.ndarray:
    """The file's sound as float32 mono at RATE. Raises BeatError."""
    try:
        raw = ffmpeg.run(["-v", "error", "-t", f"{seconds}", "-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE),
                          "-f", "f32le", "pipe:1"], timeout=300).stdout
    except Exception as e:  # noqa: BLE001 - ffmpeg's failure is the file's problem, told as a sentence
        raise BeatError(f"“{Path(path).name}” cannot be read as music.") from e
    samples = np.frombuffer(raw, np.float32)
    if samples.size < RATE:
        raise BeatError(f"“{Path(path).name}” has less than a second of sound; it has no beat to cut to.")
    return samples


def onset_envelope(samples: np.ndarray) -> np.ndarray:
    """Spectral flux per hop (frame i is centred on sample i * HOP)."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2)
    n = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    frames = padded[idx] * np.hanning(N_FFT).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    logmag = np.log1p(1000.0 * mag)
    flux = np.maximum(np.diff(logmag, axis=0), 0.0).sum(axis=1)
    env = np.concatenate([[0.0], flux])
    # take away the slowly varying part (sustained loudness is not an onset)
    k = int(RATE / HOP * 0.5) | 1
    local = np.convolve(env, np.ones(k) / k, mode="same")
    env = np.maximum(env - local, 0.0)
    peak = env.max()
    return env / peak if peak > 0 else env


def pick_onsets(env: np.ndarray, *, delta: float = 0.07, wait_s: float = 0.05) -> np.ndarray:
    """Indices of envelope peaks: local maxima above a moving average + ``delta``, ``wait_s`` apart."""
    w = max(1, int(0.03 * RATE / HOP))
    k = int(0.1 * RATE / HOP) * 2 + 1
    avg = np.convolve(env, np.ones(k) / k, mode="same")
    out, last = [], -10**9
    wait = int(wait_s * RATE / HOP)
    for i in range(1, len(env) - 1):
        lo, hi = max(0, i - w), min(len(env), i + w + 1)
        if env[i] == env[lo:hi].max() and env[i] > avg[i] + delta and i - last > wait:
            out.append(i)
            last = i
    return np.array(out, np.intp)


def estimate_tempo(env: np.ndarray) -> float:
    """Beats per minute from the onset envelope's autocorrelation (prior toward 120 BPM)."""
    fps = RATE / HOP
    x = env - env.mean()
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    lo = int(fps * 60 / TEMPO_RANGE[1])
    hi = min(n - 2, int(fps * 60 / TEMPO_RANGE[0]) + 1)
    if hi <= lo + 2:
        raise BeatError("The music is too short to find its tempo.")
    lags = np.arange(lo, hi + 1)
    bpm = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / TEMPO_PRIOR_BPM) / 1.0) ** 2)
    score = ac[lags] * prior
    i = int(np.argmax(score))
    lag = float(lags[i])
    if 0 < i < len(lags) - 1:   # between two lags: the top of the parabola through three
        a, b, c = ac[lags[i] - 1], ac[lags[i]], ac[lags[i] + 1]
        den = a - 2 * b + c
        if den < 0:
            lag += 0.5 * (a - c) / den
    return 60.0 * fps / lag


def _attack(samples: np.ndarray, t_s: float, window_s: float) -> float:
    """The time of the steepest energy rise within ±window of t (a 3 ms envelope), or t."""
    a = max(0, int((t_s - window_s) * RATE))
    b = min(len(samples), int((t_s + window_s) * RATE))
    seg = samples[a:b].astype(np.float64)
    hop = 64
    if len(seg) < hop * 4:
        return t_s
    n = len(seg) // hop
    energy = np.log(1e-8 + (seg[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    rise = np.diff(energy)
    i = int(np.argmax(rise))
    if rise[i] < 1.0:          # no clear hit here: keep the envelope's estimate
        return t_s
    return (a + (i + 1) * hop) / RATE


def _loudness_rise(samples: np.ndarray, n: int) -> np.ndarray:
    """Per envelope frame, how much the sound's level (dB of its RMS) rises: loud hits score high."""
    padded = np.pad(samples.astype(np.float64), (N_FFT // 2, N_FFT))
    idx = np.arange(HOP * n)[None, :].reshape(n, HOP)
    level = 10 * np.log10(1e-10 + (padded[idx] ** 2).mean(axis=1))
    rise = np.maximum(np.diff(level, prepend=level[0]), 0.0)
    # a rise spread over a few frames still counts once: sum it over ±2 frames
    return np.convolve(rise, np.ones(5), mode="same") * (level - level.min())


def track_beats(samples: np.ndarray, env: np.ndarray, tempo: float) -> np.ndarray:
    """Beat times (seconds) on a comb of the tempo, each refined onto its hit."""
    fps = RATE / HOP
    period = 60.0 * fps / tempo
    n = len(env)
    grid = np.arange(n, dtype=np.float64)
    best_phase, best = 0.0, -1.0
    for phase in np.arange(0.0, period, 0.25):
        pos = np.arange(phase, n - 1, period)
        s = np.interp(pos, grid, env).sum() / max(len(pos), 1)
        if s > best:
            best, best_phase = s, phase
    # A comb on the off-beats collects nearly as much flux when hi-hats fill them (broadband noise
    # makes big flux); the beat is where the music is loudest: compare the two combs' loudness.
    loud = _loudness_rise(samples, n)
    other = (best_phase + period / 2) % period
    comb = [np.interp(np.arange(ph, n - 1, period), grid, loud).mean() for ph in (best_phase, other)]
    if comb[1] > comb[0] * 1.2:
        best_phase = other
    beats = []
    reach = max(1, int(period * 0.1))
    for pos in np.arange(best_phase, n - 1, period):
        i = int(round(pos))
        lo, hi = max(0, i - reach), min(n, i + reach + 1)
        j = lo + int(np.argmax(env[lo:hi])) if env[lo:hi].max() > 0.05 else i
        beats.append(_attack(samples, j / fps, 0.6 * reach / fps + HOP / RATE))
    return np.array(sorted(set(round(b, 6) for b in beats)))


def analyse(samples: np.ndarray) -> Beats:
    env = onset_envelope(samples)
    if env.max() <= 0:
        raise BeatError("This music has no beat that can be heard (it is silent or flat).")
    tempo = estimate_tempo(env)
    beats = track_beats(samples, env, tempo)
    onsets = [_attack(samples, i * HOP / RATE, 2 * HOP / RATE) for i in pick_onsets(env)]
    return Beats(tempo_bpm=round(float(tempo), 2), beats_us=[int(round(b * US)) for b in beats],
                 onsets_us=sorted({int(round(o * US)) for o in onsets}))


def analyse_file(path: Path) -> Beats:
    """Beats of a music file. Raises BeatError."""
    return analyse(load_mono(Path(path)))


# --- cut to the beat -----------------------------------------------------------------------------

def timeline_beats(edit: Edit, music_id: str, beats_us: Sequence[int]) -> list[int]:
    """The beats of music track ``music_id`` on the reel's timeline (where they play)."""
    m = next((m for m in edit.music if m.id == music_id), None)
    if m is None:
        raise BeatError("That music track is no longer in the edit.")
    out = []
    for b in beats_us:
        t = m.start_us + (int(b) - m.offset_us)
        if t >= m.start_us and (m.duration_us is None or b - m.offset_us < m.duration_us):
            out.append(t)
    return out


def music_markers(track, song_us: int | None, end_us: int) -> tuple[list[int], list[int]]:  # noqa: ANN001
    """Timeline times of a music track's beats and onsets where it is heard (before ``end_us``,
    the reel's end): what its lane shows and what trimming snaps to."""
    stop = min(end_us, track.start_us + music_length_us(track, song_us))

    def place(marks: Sequence[int]) -> list[int]:
        out = (track.start_us + int(b) - track.offset_us for b in marks)
        return [t for t in out if track.start_us <= t <= stop]

    return place(track.beats_us), place(track.onsets_us)


def _best_window(scores: np.ndarray | None, total_us: int, keep_us: int, step_us: int) -> int:
    """Offset (µs from the take's in point) of the ``keep_us`` window with the highest score sum:
    the take's best part (its loudest stretch of its own sound); the middle without scores."""
    spare = total_us - keep_us
    if spare <= 0:
        return 0
    if scores is None or not len(scores) or float(np.max(scores)) <= 0:
        return spare // 2
    csum = np.concatenate([[0.0], np.cumsum(scores)])
    n = max(1, int(round(keep_us / step_us)))
    starts = np.arange(0, max(1, len(scores) - n + 1))
    sums = csum[np.minimum(starts + n, len(scores))] - csum[starts]
    # prefer the middle on ties (a take's edges are where the creator reaches for the button)
    centre = (len(starts) - 1) / 2
    best = int(starts[np.lexsort((np.abs(starts - centre), -sums))[0]])
    return min(spare, best * step_us)


def cut_to_the_beat(edit: Edit, music_id: str, beats_us: Sequence[int],
                    take_scores: dict[str, np.ndarray] | None = None, *, step_us: int = 50_000,
                    min_beats: int = 1) -> tuple[Edit, list[int]]:
    """Trim every clip so each cut between clips (and the reel's end) falls on a beat of the music.

    Each clip keeps the longest whole number of beats it can fill (at least ``min_beats``), taken
    from its best part (``take_scores[clip.id]``: a score per ``step_us`` of the trimmed take, e.g.
    the loudness of its own sound). Returns the new edit and the cut times. Raises BeatError."""
    import copy

    e = copy.deepcopy(edit)
    if not e.clips:
        raise BeatError("This draft has no clips to cut.")
    beats = sorted(timeline_beats(e, music_id, beats_us))
    if len(beats) < 2:
        raise BeatError("The music has fewer than two beats where it plays; nothing to cut to.")
    period = float(np.median(np.diff(beats)))
    fps = e.canvas.fps
    frame = US / fps
    cuts = []
    for i, clip in enumerate(e.clips):
        start = e.clip_ranges()[i][1]
        longest = start + clip.source_duration_us / clip.speed
        # the cut before the first clip is the reel's start; the others are beats
        reachable = [b for b in beats if start + min_beats * period * 0.75 <= b <= longest + frame / 2]
        if not reachable:
            raise BeatError(f"Clip {i + 1} is shorter than a beat of this music; remove it or slow the music.")
        cut = reachable[-1]
        keep_timeline = cut - start
        keep_source = int(round(keep_timeline * clip.speed))
        keep_source = min(keep_source, clip.source_duration_us)
        offset = _best_window((take_scores or {}).get(clip.id), clip.source_duration_us, keep_source, step_us)
        clip.source_in_us += offset
        clip.source_out_us = clip.source_in_us + keep_source
        clip.transition = None             # a cut on the beat is a cut, not a blend
        cuts.append(int(cut))
    try:
        validate(e)
        return e, cuts
    except EditError as err:
        raise BeatError(str(err)) from err


def take_loudness(path: Path, in_us: int, out_us: int, step_us: int = 50_000) -> np.ndarray | None:
    """RMS of a take's own sound per ``step_us`` over [in, out), or None when it has no sound."""
    try:
        raw = ffmpeg.run(["-v", "error", "-ss", f"{in_us / US:.6f}", "-t", f"{(out_us - in_us) / US:.6f}",
                          "-i", str(path), "-vn", "-ac", "1", "-ar", "8000", "-f", "f32le", "pipe:1"],
                         timeout=120).stdout
    except Exception:  # noqa: BLE001 - no usable sound: the middle of the take is kept instead
        return None
    x = np.frombuffer(raw, np.float32)
    per = int(8000 * step_us / US)
    n = len(x) // per
    if n == 0:
        return None
    return np.sqrt((x[: n * per].reshape(n, per).astype(np.float64) ** 2).mean(axis=1))


def beat_cuts_draft(studio, draft, edit: Edit, music: str, *,  # noqa: ANN001
                    cancel: Callable[[], bool] | None = None) -> tuple[Edit, dict[str, Any]]:
    """The CLI's "Cut to the beat": ``music`` is a file (added to the draft as its music track) or
    the id (or id prefix) of a music asset of the draft. Returns the new edit (not saved) and a
    report. Raises BeatError — and then the draft is untouched: a file is added only once the
    cuts are found."""
    assets = {a.id: a for a in draft.assets}
    matches = [a for a in draft.assets if a.kind == "audio" and a.id.startswith(music)] if len(music) >= 6 else []
    asset = matches[0] if matches else None
    if asset is not None:
        path = studio.drafts.asset_path(asset)
    else:
        path = Path(music)
        if not path.is_file():
            raise BeatError(f"“{music}” is neither a music file nor the id of this draft's music.")
    analysis = analyse_file(path)
    pending = "0" * 32          # the new file's asset id, known once it is added
    asset_id = asset.id if asset is not None else pending
    track = next((m for m in edit.music if m.asset_id == asset_id), None)
    if track is None:
        edit, music_id = add_music(edit, asset_id)
    else:
        music_id = track.id
    edit = update_music(edit, music_id, beats_us=analysis.beats_us, onsets_us=analysis.onsets_us,
                        tempo_bpm=analysis.tempo_bpm)
    scores = {}
    for clip in edit.clips:
        a = assets.get(clip.asset_id)
        if a is not None and a.has_audio and not a.missing:
            scores[clip.id] = take_loudness(studio.drafts.asset_path(a), clip.source_in_us, clip.source_out_us)
    edit, cuts = cut_to_the_beat(edit, music_id, analysis.beats_us, scores)
    if asset is None:
        try:
            asset = studio.drafts.add_asset(draft.id, path, kind="audio")
        except (DraftError, MediaError) as e:
            raise BeatError(str(e)) from e
        for m in edit.music:
            if m.id == music_id:
                m.asset_id = asset.id
    return edit, {"tempo_bpm": analysis.tempo_bpm, "beats": len(analysis.beats_us), "onsets": len(analysis.onsets_us),
                  "cuts_us": cuts, "music_id": music_id, "asset_id": asset.id}


def cut_to_the_beat_files(edit: Edit, music_id: str, music_path: Path,
                          take_paths: dict[str, Path]) -> tuple[Edit, Beats]:
    """The editor's "Cut to the beat" in one background call: analyse the track's file, store its
    markers on the track, trim the clips (``take_paths``: asset id -> file with sound). Raises BeatError."""
    analysis = analyse_file(music_path)
    edit = update_music(edit, music_id, beats_us=analysis.beats_us, onsets_us=analysis.onsets_us,
                        tempo_bpm=analysis.tempo_bpm)
    scores = {c.id: take_loudness(take_paths[c.asset_id], c.source_in_us, c.source_out_us)
              for c in edit.clips if c.asset_id in take_paths}
    edit, _cuts = cut_to_the_beat(edit, music_id, analysis.beats_us, scores)
    return edit, analysis
