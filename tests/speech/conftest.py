"""Real speech for the speech tests: Debian's festival HTS voice reads known sentences, 2 s of
silence between them, laid under a real video from shared/media — a talking-head clip."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from studio.media import ffmpeg

SENTENCES = (
    "welcome back to my channel today we are making fresh pasta at home",
    "first we mix the flour and the eggs until the dough is smooth",
)
GAP_S = 2.0
VOICE = "(voice_cmu_us_slt_arctic_hts)"


@dataclass(frozen=True)
class TalkingHead:
    path: Path                          # H.264 + AAC, the cockatoo with the voice
    spoken: list[tuple[int, int]]       # (start_us, end_us) of each sentence in the file
    sentences: tuple[str, ...]

    @property
    def words(self) -> list[str]:
        return " ".join(self.sentences).split()

    @property
    def silences(self) -> list[tuple[int, int]]:
        return [(a[1], b[0]) for a, b in zip(self.spoken, self.spoken[1:])]


def _say(text: str, out: Path) -> float:
    if shutil.which("text2wave") is None:
        pytest.fail("festival's text2wave is missing; install festival and festvox-us-slt-hts")
    txt = out.with_suffix(".txt")
    txt.write_text(text + "\n")
    subprocess.run(["text2wave", "-eval", VOICE, str(txt), "-o", str(out)], check=True, capture_output=True,
                   timeout=120)
    with wave.open(str(out)) as w:
        return w.getnframes() / w.getframerate()


def make_talking_head(folder: Path, sentences=SENTENCES, gap_s: float = GAP_S) -> TalkingHead:
    folder.mkdir(parents=True, exist_ok=True)
    parts, spoken, t = [], [], 0.0
    for i, s in enumerate(sentences):
        wav = folder / f"s{i}.wav"
        d = _say(s, wav)
        parts.append(wav)
        spoken.append((round(t * 1e6), round((t + d) * 1e6)))
        t += d + gap_s
    inputs, chain = [], ""
    for i, wav in enumerate(parts):
        inputs += ["-i", str(wav)]
        pad = f",apad=pad_dur={gap_s}" if i + 1 < len(parts) else ""
        chain += f"[{i}:a]aresample=48000,aformat=channel_layouts=mono{pad}[a{i}];"
    chain += "".join(f"[a{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[a]"
    voice = folder / "voice.wav"
    ffmpeg.run(["-v", "error", "-y", *inputs, "-filter_complex", chain, "-map", "[a]", str(voice)], timeout=120)
    video = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "cockatoo_yuv420.mp4"
    out = folder / "talking-head.mp4"
    ffmpeg.run(["-v", "error", "-y", "-stream_loop", "-1", "-i", str(video), "-i", str(voice), "-map", "0:v",
                "-map", "1:a", "-shortest", "-vf", "scale=640:-2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-c:a", "aac",
                "-b:a", "128k", str(out)], timeout=180)
    return TalkingHead(out, spoken, tuple(sentences))


@pytest.fixture(scope="session")
def talking_head(tmp_path_factory) -> TalkingHead:
    return make_talking_head(tmp_path_factory.mktemp("speech"))


@pytest.fixture
def gui(qapp):
    return qapp   # captions are painted with QtGui
