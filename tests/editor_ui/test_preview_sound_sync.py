"""Preview sound = export sound: a beep is heard at the same instant in the editor's mix as in the
exported file, from any playhead position, on trimmed and on sped-up clips (within 1 ms)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from studio.editor.document import Edit, trim_clip, update_clip
from studio.editor.export import export_draft
from studio.editor.preview import AUDIO_RATE, audio_argv, snap_to_frame
from studio.media import ffmpeg

US = 1_000_000
BEEPS_S = (1.5, 2.7)        # in the source file
BEEP_LEN_S = 0.06
TRIM = (400_000, 3_600_000)


@pytest.fixture(scope="module")
def beeps(tmp_path_factory):
    """4 s, 30 fps: black with a white flash and a 1 kHz beep at each of BEEPS_S, silence between."""
    path = tmp_path_factory.mktemp("beeps") / "beeps.mp4"
    on = "+".join(f"between(t,{b},{b + BEEP_LEN_S})" for b in BEEPS_S)
    ffmpeg.run(["-y", "-v", "error",
                "-f", "lavfi", "-i", f"color=c=black:s=320x240:r=30:d=4,drawbox=c=white:t=fill:enable='{on}'",
                "-f", "lavfi", "-i", f"aevalsrc='0.8*sin(2*PI*1000*t)*({on})':s=48000:d=4:c=stereo",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p",
                "-c:a", "pcm_s16le", "-shortest", str(path.with_suffix(".mov"))], timeout=120)
    return path.with_suffix(".mov")


def _pcm(argv: list[str]) -> np.ndarray:
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", *argv], capture_output=True,
                         timeout=120, check=True).stdout
    return np.abs(np.frombuffer(out, "<i2").reshape(-1, 2)[:, 0].astype(np.float64))


def _onsets(pcm: np.ndarray) -> list[float]:
    """Times (s) where a beep starts: the first sample above half its loudness, after a quiet gap."""
    loud = pcm > 0.5 * pcm.max()
    idx = np.flatnonzero(loud)
    starts = [int(idx[0])] + [int(b) for a, b in zip(idx, idx[1:]) if b - a > AUDIO_RATE // 20]
    return [s / AUDIO_RATE for s in starts]


def _export_pcm(path) -> np.ndarray:
    return _pcm(["-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le",
                 "-ar", str(AUDIO_RATE), "-ac", "2", "pipe:1"])


@pytest.mark.parametrize("speed", [1.0, 2.0, 0.5])
def test_a_beep_is_where_the_export_has_it_from_any_playhead(studio, beeps, tmp_path, speed):
    draft = studio.drafts.import_files([beeps])
    edit = Edit.from_dict(draft.edit)
    clip_id = edit.clips[0].id
    edit = trim_clip(edit, clip_id, in_us=TRIM[0], out_us=TRIM[1])
    if speed != 1.0:
        edit = update_clip(edit, clip_id, speed=speed)
    studio.drafts.update_edit(draft.id, edit.to_dict())
    out = export_draft(studio, draft.id, tmp_path / f"beeps-{speed}.mp4")
    exported = _onsets(_export_pcm(out))
    # the beeps land where the edit says (trim, then speed); atempo's overlap-add smears a slowed
    # beep's onset by up to about a frame
    want = [(b - TRIM[0] / US) / speed for b in BEEPS_S]
    assert exported == pytest.approx(want, abs=2 / 30)

    assets = studio.drafts.media_refs(studio.drafts.get(draft.id))
    duration = edit.duration_us
    # the top, mid-clip off any frame's start, just before each beep, and between the beeps
    playheads = [0, round(duration * 0.13) + 7_777, round((want[0] - 0.2) * US), round((want[0] + want[1]) / 2 * US),
                 round((want[1] - 0.1) * US)]
    for playhead in playheads:
        start = snap_to_frame(edit, playhead)      # sound and picture start with the frame on screen
        heard = [start / US + t for t in _onsets(_pcm(audio_argv(edit, assets, playhead)))]
        expected = [t for t in exported if t >= start / US]
        assert len(heard) == len(expected), (playhead, heard, expected)
        for h, e in zip(heard, expected):
            assert abs(h - e) <= 0.001, f"speed {speed}, playhead {start} µs: heard {h:.4f} s, exported {e:.4f} s"
