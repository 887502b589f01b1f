"""Auto captions: how long the built-in engine takes to transcribe a 60 s reel.

A minute of speech is read by Debian's festival HTS voice (a paragraph about making pasta, pauses
between sentences), laid under a real video from shared/media, imported as a draft, and
transcribed through the same path as the Editor's "Auto captions" and `studio edit ID captions`
(``transcribe_edit`` with the built-in pocketsphinx engine). Target: ≤ 30 s wall time for 60 s.
Silence detection ("Remove silences") of the same reel is reported for information.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

US = 1_000_000
HERE = Path(__file__).resolve().parent
PARAGRAPH = (
    "Welcome back to my channel. Today we are making fresh pasta at home. "
    "First we mix the flour and the eggs until the dough is smooth. "
    "Then we let it rest for half an hour under a clean towel. "
    "Now we roll it thin and cut it into long ribbons. "
    "Boil a big pot of water with plenty of salt. "
    "The pasta only needs two or three minutes. "
    "Meanwhile we warm butter and sage in a pan. "
    "Drain the pasta and toss it with the butter. "
    "Finish with grated cheese and a little black pepper. "
    "That is all it takes to make a simple dinner. "
    "If you liked this video, follow for more recipes. "
    "Next week we will bake bread together. "
    "Thanks for watching and see you soon."
)


def _speech(folder: Path, seconds: float) -> Path:
    from studio.media import ffmpeg

    txt = folder / "p.txt"
    txt.write_text(PARAGRAPH + "\n")
    wav = folder / "p.wav"
    subprocess.run(["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", str(txt), "-o", str(wav)], check=True,
                   capture_output=True, timeout=300)
    video = HERE.parent.parent / "shared" / "media" / "cockatoo_yuv420.mp4"
    out = folder / "talk60.mp4"
    # the voice looped to exactly `seconds`, under the looped video
    ffmpeg.run(["-v", "error", "-y", "-stream_loop", "-1", "-i", str(video), "-stream_loop", "-1", "-i", str(wav),
                "-map", "0:v", "-map", "1:a", "-t", f"{seconds}", "-vf", "scale=640:-2", "-c:v", "libx264",
                "-preset", "ultrafast", "-c:a", "aac", str(out)], timeout=600)
    return out


def run(full: bool = True) -> list[dict]:
    sys.path.insert(0, str(HERE.parent))
    from studio.app import build
    from studio.editor.document import Edit
    from studio.speech.engines import choose_engine
    from studio.speech.transcribe import propose_silence_cuts, transcribe_edit

    seconds = 60.0 if full else 20.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = _speech(folder, seconds)
        studio = build(folder / "profile")
        try:
            draft = studio.drafts.import_files([clip])
            edit, assets = Edit.from_dict(draft.edit), studio.drafts.media_refs(draft)
            engine = choose_engine("builtin", studio.layout)
            t0, c0 = time.perf_counter(), time.process_time()
            words = transcribe_edit(edit, assets, engine)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            t1 = time.perf_counter()
            proposal = propose_silence_cuts(edit, assets)
            vad = time.perf_counter() - t1
        finally:
            studio.close()
    load = f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    target = 30.0 * seconds / 60.0
    return [
        {"name": f"transcribe {seconds:.0f} s reel (built-in)", "value": wall, "unit": "s",
         "target": f"<= {target:.0f} s", "ok": wall <= target,
         "note": f"{len(words)} words, {wall / seconds:.2f}x real time, {load}"},
        {"name": "transcribe CPU time (built-in)", "value": cpu, "unit": "s", "target": "info", "ok": None,
         "note": "process CPU time, all decoder threads"},
        {"name": f"find silences {seconds:.0f} s reel", "value": vad, "unit": "s", "target": "info", "ok": None,
         "note": f"{len(proposal.cuts)} cuts proposed"},
    ]


if __name__ == "__main__":
    for row in run(full="--quick" not in sys.argv):
        verdict = {True: "ok", False: "MISSED", None: "-"}[row["ok"]]
        print(f"{row['name']}: {row['value']:.3g} {row['unit']} (target {row['target']}) {verdict}  {row['note']}")
