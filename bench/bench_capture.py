"""Recording benchmark: the synthetic source at 1280x720@30 and 1920x1080@30 through the real pipeline.

Measures what the creator would feel: frames skipped or repeated (the take must keep real time),
CPU of the app process plus its ffmpeg encoder (2-core machine), preview latency (capture instant →
the newest frame handed to the preview), and the A/V offset measured in the recorded file
(white flash vs beep). full=True: 60 s per size; full=False: 10 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _child_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return float("nan")


def _preview_consumer(session, stop: threading.Event, latencies: list[float]) -> None:
    """Stands in for the Record page's preview: takes the newest frame whenever there is one."""
    seq = -1
    while not stop.is_set():
        seq, frame, ts = session.mailbox.wait_newer(seq, 0.1)
        if frame is not None:
            latencies.append(time.monotonic() - ts)


def measure_size(size: tuple[int, int], seconds: float) -> dict:
    from studio.app import build
    from studio.capture.recorder import CaptureSession
    from studio.capture.sources import SyntheticSource
    from studio.capture.sync_check import measure

    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
        studio = build(tmp)
        session = CaptureSession(studio.layout, SyntheticSource(size, 30), preview_height=540)
        session.open()
        stop, latencies = threading.Event(), []
        consumer = threading.Thread(target=_preview_consumer, args=(session, stop, latencies), daemon=True)
        consumer.start()
        try:
            time.sleep(0.5)
            writer = session.start_take(max_seconds=seconds)
            t0, cpu0 = time.monotonic(), time.process_time()
            latencies.clear()
            writer.done.wait(seconds + 30)
            wall = time.monotonic() - t0
            cpu_app = time.process_time() - cpu0
            cpu_ffmpeg = _child_cpu_seconds(writer._proc.pid)
            take = session.stop_take()
        finally:
            stop.set()
            consumer.join(2)
            session.close()
        report = measure(take.media, 30)
        studio.close()
    latencies.sort()
    s = take.stats
    return {
        "written": s.written, "skipped": s.late + s.dropped, "dropped": s.dropped, "late": s.late,
        "cpu": 100 * (cpu_app + cpu_ffmpeg) / wall, "cpu_app": 100 * cpu_app / wall,
        "cpu_ffmpeg": 100 * cpu_ffmpeg / wall,
        "latency_p50": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "latency_p95": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else float("nan"),
        "av_worst": 1000 * report.worst, "av_median": 1000 * report.median, "flashes": len(report.flashes),
    }


def run(full: bool) -> list[dict]:
    seconds = 60 if full else 10
    rows = []
    for size, label, budget_pct in (((1280, 720), "720p30", 0.0), ((1920, 1080), "1080p30", 0.5)):
        m = measure_size(size, seconds)
        pct = 100 * m["skipped"] / max(1, m["written"])
        ok = m["skipped"] == 0 if budget_pct == 0 else pct <= budget_pct
        rows += [
            {"name": f"capture {label} skipped/late frames", "value": pct, "unit": "%",
             "target": "0 frames" if budget_pct == 0 else f"<= {budget_pct}%", "ok": ok,
             "note": f"{m['skipped']} of {m['written']} ({m['dropped']} dropped behind the encoder, "
                     f"{m['late']} repeated for late source frames), {seconds} s"},
            {"name": f"capture {label} CPU app+ffmpeg", "value": m["cpu"], "unit": "% core",
             "target": "< 200 (2 cores)", "ok": m["cpu"] < 200,
             "note": f"app {m['cpu_app']:.0f}% (incl. drawing the test pattern), ffmpeg {m['cpu_ffmpeg']:.0f}%"},
            {"name": f"capture {label} preview latency p95", "value": m["latency_p95"], "unit": "ms",
             "target": "<= 33 (one frame)", "ok": m["latency_p95"] <= 33.4,
             "note": f"p50 {m['latency_p50']:.1f} ms; the page's 33 ms paint timer adds up to one frame"},
            {"name": f"capture {label} A/V offset (worst)", "value": m["av_worst"], "unit": "ms",
             "target": "<= 33 (one frame)", "ok": m["av_worst"] <= 1000 / 30 and m["flashes"] >= seconds // 2 - 1,
             "note": f"median {m['av_median']:.1f} ms over {m['flashes']} flash/beep pairs"},
        ]
    return rows


if __name__ == "__main__":
    for row in run(full="--full" in sys.argv):
        print(row)
