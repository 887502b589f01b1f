"""Uploader: throughput vs boto3's TransferManager, peak memory, bytes re-sent after kill -9.

Everything runs against the embedded local SeaweedFS, started by the app's own launcher on a
temporary folder. Each upload runs in a child process so its peak RSS is its own:

- throughput: the same file, the same part size and concurrency, ours (the queue + engine,
  upload phase) and TransferManager (``upload_file``), alternated in the same run; the best of
  each is compared (target ratio >= 0.95). The snapshot + sha256 before our upload is reported
  apart (TransferManager does neither).
- peak RSS of the uploader child for two file sizes (<= 150 MiB, and not growing with size).
- kill -9 of `studio uploads run` at a random point, then a run to the end: every byte both runs
  put on the wire (counted by a relay in front of the server, so the parts in flight at the kill
  are included) minus the file's size = what the kill cost (target <= concurrency x part size).

    .venv/bin/python bench/run.py --only uploader [--quick]
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
PART = 8 * MiB
CONCURRENCY = 4
RSS_LIMIT = 150 * MiB


# -- child processes -------------------------------------------------------------------------
def _peak_rss() -> int:
    """This process's own peak RSS. Not ru_maxrss: Linux carries the parent's high-water mark over
    fork and exec, so a child of a bench runner that already ran other benchmarks would report the
    runner's peak, not its own. VmHWM belongs to the address space exec created."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024



def _child_ours(cfg: dict) -> dict:
    from studio.app import build
    from studio.uploader.targets import Target

    s = build(cfg["data_dir"])
    s.targets.add(Target(name="bench", bucket=cfg["bucket"], endpoint_url=cfg["endpoint"], addressing_style="path",
                         part_size=cfg["part"], concurrency=cfg["concurrency"], credential_source="aws",
                         checksum_algorithm=cfg.get("checksum", "SHA256"), key_template="bench/{job_id}/{name}"),
                  replace_existing=True)
    s.targets.client(s.targets.get("bench"), read_timeout=s.uploads.read_timeout)  # built outside the timer,
    s.uploads.store.list()                                                        # as TransferManager's client is
    t0 = time.perf_counter()
    job = s.uploads.enqueue_file(cfg["file"], "bench")
    t1 = time.perf_counter()
    s.uploads.run(until_idle=True, poll=0.02)
    t2 = time.perf_counter()
    job = s.uploads.get(job.id)
    s.close()
    return {"enqueue_s": t1 - t0, "upload_s": t2 - t1, "state": job.state, "error": job.error,
            "rss": _peak_rss()}


def _child_tm(cfg: dict) -> dict:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=cfg["endpoint"], region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}, max_pool_connections=cfg["concurrency"] * 2))
    tc = TransferConfig(multipart_threshold=cfg["part"], multipart_chunksize=cfg["part"],
                        max_concurrency=cfg["concurrency"], use_threads=True)
    t0 = time.perf_counter()
    s3.upload_file(cfg["file"], cfg["bucket"], f"bench-tm/{os.getpid()}/{Path(cfg['file']).name}", Config=tc)
    return {"upload_s": time.perf_counter() - t0, "state": "COMPLETED",
            "rss": _peak_rss()}


def _spawn(kind: str, cfg: dict, env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, kind, json.dumps(cfg)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the benchmark ---------------------------------------------------------------------------
def _file(folder: Path, size: int) -> Path:
    path = folder / f"reel-{size // MiB}MiB.bin"
    with open(path, "wb") as f:
        block = os.urandom(4 * MiB)
        left = size
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)
    return path


def run(full: bool) -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from studio.uploader.local_s3 import LocalS3

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-uploader-") as tmp:
        tmp = Path(tmp)
        server = LocalS3(tmp / "seaweed")
        t0 = time.perf_counter()
        server.ensure_running()
        start_s = time.perf_counter() - t0
        try:
            c = server.client_config()
            env = {**os.environ, "AWS_ACCESS_KEY_ID": c["access_key"], "AWS_SECRET_ACCESS_KEY": c["secret_key"],
                   "PYTHONPATH": str(ROOT)}
            base = {"endpoint": c["endpoint"], "bucket": c["bucket"], "part": PART, "concurrency": CONCURRENCY}
            rows.append({"name": "local S3 cold start", "value": start_s, "unit": "s",
                         "target": "as fast as weed allows", "ok": None, "note": "weed mini, every port on 127.0.0.1"})
            rows += _throughput(tmp, base, env, full)
            rows += _memory(tmp, base, env, full)
            rows += _kills(tmp, c, env, full)
        finally:
            server.stop()
    return rows


def _throughput(tmp: Path, base: dict, env: dict, full: bool) -> list[dict]:
    """Rounds of back-to-back runs (order flipped every round); per round, ours / TransferManager.
    The machine is shared, so the figure is the median of the per-round ratios. Ours runs both with
    its default SHA-256 part checksums and with CRC32, the checksum TransferManager sends by default
    (botocore's "when_supported"): like for like, and the cost of the stronger checksum visible."""
    import statistics

    size = (1024 if full else 128) * MiB
    src = _file(tmp, size)
    ratios: dict[str, list[float]] = {"SHA256": [], "CRC32": []}
    best: dict[str, float] = {}
    hashing = []
    for i in range(5 if full else 1):
        order = ["tm", "SHA256", "CRC32"]
        if i % 2:
            order.reverse()
        secs = {}
        for who in order:
            if who == "tm":
                secs[who] = _spawn("tm", {**base, "file": str(src)}, env)["upload_s"]
                continue
            cfg = {**base, "file": str(src), "checksum": who, "data_dir": str(tmp / f"thr{i}{who}")}
            r = _spawn("ours", cfg, env)
            if r["state"] != "COMPLETED":
                raise RuntimeError(r["error"])
            secs[who] = r["upload_s"]
            hashing.append(r["enqueue_s"])
        for who, t in secs.items():
            best[who] = min(best.get(who, t), t)
        for algo in ratios:
            ratios[algo].append(secs["tm"] / secs[algo])
    src.unlink()
    rows = []
    for algo in ("CRC32", "SHA256"):
        ratio = statistics.median(ratios[algo])
        rows.append({"name": f"upload {size // MiB} MiB throughput ratio, {algo} parts (ours / TransferManager)",
                     "value": ratio, "unit": "x", "target": ">= 0.95", "ok": ratio >= 0.95,
                     "note": f"median of {len(ratios[algo])} rounds (range {min(ratios[algo]):.2f}-"
                             f"{max(ratios[algo]):.2f}); best ours {size / MiB / best[algo]:.0f} MiB/s, "
                             f"TransferManager (CRC32) {size / MiB / best['tm']:.0f} MiB/s; "
                             f"part {PART // MiB} MiB x {CONCURRENCY}; "
                             f"snapshot+sha256 before upload {min(hashing):.2f} s (not in the figure)"})
    return rows


def _memory(tmp: Path, base: dict, env: dict, full: bool) -> list[dict]:
    rows, peaks = [], {}
    for size_mib in ((256, 1024) if full else (64, 256)):
        src = _file(tmp, size_mib * MiB)
        r = _spawn("ours", {**base, "file": str(src), "data_dir": str(tmp / f"mem{size_mib}")}, env)
        src.unlink()
        peaks[size_mib] = r["rss"]
        rows.append({"name": f"peak RSS uploading {size_mib} MiB", "value": r["rss"] / MiB, "unit": "MiB",
                     "target": "<= 150", "ok": r["rss"] <= RSS_LIMIT,
                     "note": f"whole uploader process (Python, boto3, SQLAlchemy); "
                             f"part {PART // MiB} MiB x {CONCURRENCY}"})
    small, large = sorted(peaks)
    growth = (peaks[large] - peaks[small]) / MiB
    rows.append({"name": f"RSS growth {small}->{large} MiB file", "value": growth, "unit": "MiB",
                 "target": "< 16 (flat)", "ok": growth < 16, "note": "memory does not grow with file size"})
    return rows


def _kill_at_random_point(proc: subprocess.Popen, rng: random.Random, upload_s: float) -> None:
    """Mostly while parts are on the wire (after the runner reports IN_PROGRESS), sometimes at start-up."""
    import threading

    started = threading.Event()

    def watch() -> None:
        for line in proc.stderr:
            if "IN_PROGRESS" in line:
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 1.0))
    else:
        started.wait(60)
        time.sleep(rng.uniform(0.0, upload_s))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _kills(tmp: Path, c: dict, env: dict, full: bool) -> list[dict]:
    from studio.app import build
    from studio.uploader.targets import Target

    cycles = 200 if full else 5
    part, conc = 5 * MiB, 2
    data = tmp / "kills"
    from bench.wire_counter import WireCounter

    port = int(c["endpoint"].rsplit(":", 1)[1].split("/")[0])
    wire = WireCounter(port)
    studio = build(data)
    studio.targets.add(Target(name="k", bucket=c["bucket"], endpoint_url=wire.endpoint, addressing_style="path",
                              part_size=part, concurrency=conc, bandwidth_limit=8 * MiB, credential_source="aws",
                              key_template="kills/{job_id}/{name}"))
    src = _file(tmp, 4 * part + 12345)
    rng = random.Random(200)
    cmd = [sys.executable, "-m", "studio", "--data-dir", str(data), "uploads", "run", "--until-idle", "--json"]
    resent, mid = [], 0
    import boto3

    raw = boto3.client("s3", endpoint_url=c["endpoint"], aws_access_key_id=c["access_key"],
                       aws_secret_access_key=c["secret_key"], region_name="us-east-1")
    for _ in range(cycles):
        job = studio.uploads.enqueue_file(src, "k")
        wire.take()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        _kill_at_random_point(proc, rng, 2.6)   # a 20 MiB upload at 8 MiB/s takes ~2.6 s
        job = studio.uploads.get(job.id)
        if job.state == "COMPLETED":
            continue
        mid += 0 < job.bytes_done
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"the resuming run failed: {out.stderr[-500:]}")
        done = studio.uploads.get(job.id)
        if done.state != "COMPLETED":
            raise RuntimeError(f"job did not complete after a kill: {done.error}")
        # both runs' bytes on the wire (headers included: a few hundred bytes a request) minus the file
        resent.append(max(0, wire.take() - job.size))
        raw.delete_object(Bucket=done.bucket, Key=done.key)
    studio.close()
    wire.close()
    worst = max(resent) if resent else 0
    return [{"name": "bytes on the wire beyond the file, kill -9 (worst)", "value": worst / MiB, "unit": "MiB",
             "target": f"<= {conc * part // MiB} (conc x part)", "ok": worst <= conc * part,
             "note": f"{len(resent)} kills before completion ({mid} after some parts were acknowledged) of "
                     f"{cycles} cycles; mean {sum(resent) / max(1, len(resent)) / MiB:.2f} MiB, parts in flight "
                     "at the kill included"}]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    kind, cfg = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(_child_ours(cfg) if kind == "ours" else _child_tm(cfg)))
