"""Uploader: the whole upload as a user waits for it vs boto3's TransferManager and obstore, peak
memory from outside, bytes on the wire after kill -9.

Everything runs against the embedded local SeaweedFS, started by the app's own launcher on a
temporary folder, on 127.0.0.1.

- throughput: one file (512 MiB; --quick: 64 MiB), part size 8 MiB x 4 everywhere, three rounds
  (the order rotates every round, so none of the three always runs first or last):
    * ours, end to end through the real command line: `studio uploads enqueue FILE` then
      `studio uploads run --until-idle`, both processes timed from outside (Python start-up and
      imports, the freeze, every hash, the parts, the verification and the bookkeeping are all on the
      clock), SHA-256 per part (checked by the server) and a whole-file sha256 verified against the
      object, which must come back COMPLETED with the file's sha256;
    * boto3 TransferManager (`upload_file`, `preferred_transfer_client='classic'`, CRC32 by default),
      timed inside its process around the call only (client built before the clock starts);
    * obstore 0.12 (`obstore.put`, chunk_size 8 MiB, max_concurrency 4), timed the same way;
    * (informational) the same TransferManager call with SHA-256 part checksums, the integrity ours
      has on: it tells what of the gap is the algorithm (the client's and the server's hashing);
    * (informational) ours in one command, `studio uploads enqueue FILE --run` (one Python start-up
      and one set of imports instead of two), timed from outside;
    * (informational) ours as the window runs it: `enqueue_file` + `run(until_idle=True)` in a
      process that has already started (the app and boto3 imported, the profile open, as in the
      running app; the S3 client is still built on the clock), timed around the calls like theirs.
  Per round, ours MiB/s / theirs MiB/s; the figure is the median of the rounds (target >= 1.0), with
  the 1-minute load average beside it (the machine is shared: compare ratios, not MiB/s).
- peak RSS of every `studio` process of an upload, measured by /usr/bin/time -v (the app's own
  imports included), for a 256 MiB and a 1 GiB file (--quick: 64 and 256 MiB): <= 150 MiB, flat.
- kill -9 of `studio uploads run` at a random point, then a run to the end: every byte both runs
  put on the wire (counted by a relay in front of the server, so the parts in flight at the kill
  are included) minus the file's size = what the kill cost (target <= concurrency x part size).

    .venv/bin/python bench/run.py --only uploader [--quick]
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import statistics
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
TIME = "/usr/bin/time"


# -- the references, each in a child process of its own -------------------------------------
_TM = r"""
import json, os, sys, time
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
c = json.loads(sys.argv[1])
s3 = boto3.client("s3", endpoint_url=c["endpoint"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, max_pool_connections=c["concurrency"] * 2))
tc = TransferConfig(multipart_threshold=c["part"], multipart_chunksize=c["part"], max_concurrency=c["concurrency"],
                    use_threads=True, preferred_transfer_client="classic")
t0 = time.perf_counter()
s3.upload_file(c["file"], c["bucket"], "bench-tm/%d/%s" % (os.getpid(), os.path.basename(c["file"])), Config=tc)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""

_OBSTORE = r"""
import json, os, sys, time
from pathlib import Path
import obstore
from obstore.store import S3Store
c = json.loads(sys.argv[1])
store = S3Store(c["bucket"], endpoint=c["endpoint"], access_key_id=c["access_key"], secret_access_key=c["secret_key"],
                region="us-east-1", virtual_hosted_style_request=False, client_options={"allow_http": True})
t0 = time.perf_counter()
obstore.put(store, "bench-obstore/%d/%s" % (os.getpid(), os.path.basename(c["file"])), Path(c["file"]),
            chunk_size=c["part"], max_concurrency=c["concurrency"])
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


# ours as the window runs it: the calls only, in a process that has already started
_IN_APP = r"""
import json, sys, time
c = json.loads(sys.argv[1])
sys.path.insert(0, c["root"])
import boto3  # noqa: F401 - loaded by a running app that has uploaded before
from studio.app import build
s = build(c["data"])
s.uploads.list()
t0 = time.perf_counter()
job = s.uploads.enqueue_file(c["file"], "bench")
s.uploads.run(until_idle=True)
took = time.perf_counter() - t0
job = s.uploads.get(job.id)
s.close()
print(json.dumps({"seconds": took, "state": job.state, "sha256": job.sha256,
                  "verified": job.verified_us is not None}))
"""


# the TransferManager reference with the integrity ours has on: SHA-256 part checksums
_TM_SHA256 = _TM.replace("Config=tc)", 'Config=tc, ExtraArgs={"ChecksumAlgorithm": "SHA256"})')
assert _TM_SHA256 != _TM


def _reference(code: str, cfg: dict, env: dict) -> tuple[float, float]:
    """(seconds of the upload call, seconds of the whole process timed from outside, as ours is)."""
    took, _rss, out = _timed([sys.executable, "-c", code, json.dumps(cfg)], env)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"], took


# -- ours, through the real command line -----------------------------------------------------
def _studio(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "studio", "--data-dir", str(data), *args]


def _timed(cmd: list[str], env: dict) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time and peak RSS (bytes, from /usr/bin/time -v) of one process."""
    t0 = time.perf_counter()
    out = subprocess.run([TIME, "-v", *cmd], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    took = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[3:6])} failed ({out.returncode}): {out.stderr[-2000:]}")
    return took, int(m.group(1)) * 1024 if m else 0, out


def _profile(data: Path, base: dict) -> None:
    """A profile with a target at the bench's server: set up once, as a user does (not on the clock)."""
    from studio.app import build
    from studio.uploader.targets import Target

    s = build(data)
    try:
        s.targets.add(Target(name="bench", bucket=base["bucket"], endpoint_url=base["endpoint"],
                             addressing_style="path", part_size=base["part"], concurrency=base["concurrency"],
                             credential_source="aws", checksum_algorithm="SHA256",
                             key_template="bench/{job_id}/{name}"), replace_existing=True)
    finally:
        s.close()


def _ours_one_command(data: Path, src: Path, sha: str, base: dict, env: dict) -> float:
    _profile(data, base)
    took, _rss, out = _timed(_studio(data, "uploads", "enqueue", str(src), "--target", "bench", "--run", "--json"), env)
    _check_completed(json.loads(out.stdout)["jobs"], sha)
    return took


def _ours_in_app(data: Path, src: Path, sha: str, base: dict, env: dict) -> float:
    _profile(data, base)
    _took, _rss, out = _timed([sys.executable, "-c", _IN_APP, json.dumps({"root": str(ROOT), "data": str(data),
                                                                         "file": str(src)})], env)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    _check_completed([got], sha)
    return got["seconds"]


def _check_completed(jobs: list[dict], sha: str) -> None:
    if len(jobs) != 1 or jobs[0]["state"] != "COMPLETED" or not jobs[0]["verified"] or jobs[0]["sha256"] != sha:
        raise RuntimeError(f"our upload did not complete verified with the file's sha256: {jobs}")


def _ours(data: Path, src: Path, sha: str, base: dict, env: dict) -> dict:
    """enqueue + run --until-idle, as a user types them. Returns seconds and each process's peak RSS."""
    _profile(data, base)
    t_enq, rss_enq, _ = _timed(_studio(data, "uploads", "enqueue", str(src), "--target", "bench"), env)
    t_run, rss_run, out = _timed(_studio(data, "uploads", "run", "--until-idle", "--json"), env)
    _check_completed(json.loads(out.stdout)["jobs"], sha)
    return {"seconds": t_enq + t_run, "enqueue_s": t_enq, "run_s": t_run, "rss": max(rss_enq, rss_run),
            "rss_enqueue": rss_enq, "rss_run": rss_run}


# -- the benchmark ---------------------------------------------------------------------------
def _file(folder: Path, size: int) -> tuple[Path, str]:
    path = folder / f"reel-{size // MiB}MiB.bin"
    h = hashlib.sha256()
    with open(path, "wb") as f:
        block = os.urandom(4 * MiB)
        left = size
        while left > 0:
            chunk = block[: min(left, len(block))]
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
    return path, h.hexdigest()


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
                   "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
            # Bytecode cached, as in an installed app (a CI shell may turn that off): else every `studio`
            # process compiles the app's modules again, a cost no user pays.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            base = {"endpoint": c["endpoint"], "bucket": c["bucket"], "part": PART, "concurrency": CONCURRENCY,
                    "access_key": c["access_key"], "secret_key": c["secret_key"]}
            rows.append({"name": "local S3 cold start", "value": start_s, "unit": "s",
                         "target": "as fast as weed allows", "ok": None, "note": "weed mini, every port on 127.0.0.1"})
            rows += _throughput(tmp, base, env, full)
            rows += _memory(tmp, base, env, full)
            rows += _kills(tmp, c, env, full)
        finally:
            server.stop()
    return rows


def _throughput(tmp: Path, base: dict, env: dict, full: bool) -> list[dict]:
    _profile(tmp / "warm", base)   # a first command compiles what is not compiled yet (see PYTHONDONTWRITEBYTECODE)
    subprocess.run(_studio(tmp / "warm", "uploads", "list"), env=env, cwd=ROOT, capture_output=True, timeout=300)
    size = (512 if full else 64) * MiB
    src, sha = _file(tmp, size)
    rounds = 3
    who = ["ours", "tm", "obstore", "tm_sha256", "one_command", "in_app"]
    code = {"tm": _TM, "obstore": _OBSTORE, "tm_sha256": _TM_SHA256}
    secs: dict[str, list[float]] = {w: [] for w in who}
    whole: dict[str, list[float]] = {w: [] for w in who}   # the references' whole processes
    ratios: dict[str, list[float]] = {"tm": [], "obstore": [], "tm_sha256": []}
    ratios_whole: dict[str, list[float]] = {"tm": [], "obstore": [], "tm_sha256": []}
    ratios_ours: dict[str, list[float]] = {"one_command": [], "in_app": []}   # other ways of ours / TM call
    loads, detail = [], []
    for i in range(rounds):
        order = who[i:] + who[:i]
        got, got_whole = {}, {}
        for w in order:
            loads.append(os.getloadavg()[0])
            cfg = {**base, "file": str(src)}
            if w == "ours":
                r = _ours(tmp / f"thr{i}", src, sha, base, env)
                got[w] = got_whole[w] = r["seconds"]
                detail.append(r)
            elif w == "one_command":
                got[w] = got_whole[w] = _ours_one_command(tmp / f"one{i}", src, sha, base, env)
            elif w == "in_app":
                got[w] = got_whole[w] = _ours_in_app(tmp / f"app{i}", src, sha, base, env)
            else:
                got[w], got_whole[w] = _reference(code[w], cfg, env)
            secs[w].append(got[w])
            whole[w].append(got_whole[w])
        loads.append(os.getloadavg()[0])
        for ref in ratios:
            ratios[ref].append(got[ref] / got["ours"])   # = ours MiB/s / theirs MiB/s
            ratios_whole[ref].append(got_whole[ref] / got["ours"])
        for way in ("one_command", "in_app"):
            ratios_ours[way].append(got["tm"] / got[way])
    src.unlink()
    mibs = {w: statistics.median(size / MiB / t for t in secs[w]) for w in who}
    load = f"load average {min(loads):.1f}-{max(loads):.1f} (1 min, {os.cpu_count()} cores)"
    ours_note = (f"ours {mibs['ours']:.0f} MiB/s median end to end (enqueue {min(d['enqueue_s'] for d in detail):.2f} s "
                 f"+ run {min(d['run_s'] for d in detail):.2f} s at best, two CLI processes)")
    rows = []
    for ref, label in (("tm", "boto3 TransferManager (classic, CRC32)"), ("obstore", "obstore.put")):
        ratio = statistics.median(ratios[ref])
        rows.append({"name": f"upload {size // MiB} MiB end to end, ours / {label} call", "value": ratio,
                     "unit": "x", "target": ">= 1.0", "ok": ratio >= 1.0,
                     "note": f"median of {rounds} rounds (range {min(ratios[ref]):.2f}-{max(ratios[ref]):.2f}); "
                             f"{ours_note}; theirs {mibs[ref]:.0f} MiB/s (the call only, its process start-up, "
                             f"imports and client off the clock); part {PART // MiB} MiB x {CONCURRENCY}; "
                             f"SHA-256 parts + verified whole-file sha256; {load}"})
    for ref, label in (("tm", "a TransferManager script"), ("obstore", "an obstore.put script")):
        ratio = statistics.median(ratios_whole[ref])
        theirs = statistics.median(size / MiB / t for t in whole[ref])
        rows.append({"name": f"upload {size // MiB} MiB end to end, ours / {label} (whole process)", "value": ratio,
                     "unit": "x", "target": "(informational)", "ok": None,
                     "note": f"both timed from outside, interpreter start-up and imports included; theirs "
                             f"{theirs:.0f} MiB/s; median of {rounds} rounds (range {min(ratios_whole[ref]):.2f}-"
                             f"{max(ratios_whole[ref]):.2f}); {load}"})
    ratio = statistics.median(ratios["tm_sha256"])
    rows.append({"name": f"upload {size // MiB} MiB end to end, ours / TransferManager with SHA-256 parts call",
                 "value": ratio, "unit": "x", "target": "(informational)", "ok": None,
                 "note": f"the integrity ours has on, in the reference too; theirs {mibs['tm_sha256']:.0f} MiB/s (the "
                         f"call only) vs {mibs['tm']:.0f} MiB/s with CRC32; median of {rounds} rounds (range "
                         f"{min(ratios['tm_sha256']):.2f}-{max(ratios['tm_sha256']):.2f}); {load}"})
    for way, label, how in (
            ("one_command", "ours in one command", "`studio uploads enqueue FILE --run`, timed from outside: one "
                                                  "Python start-up and one set of imports"),
            ("in_app", "ours as the window runs it", "enqueue_file + run(until_idle=True) timed around the calls in "
                                                     "a started process (app and boto3 imported, profile open; the "
                                                     "S3 client built on the clock)")):
        ratio = statistics.median(ratios_ours[way])
        rows.append({"name": f"upload {size // MiB} MiB, {label} / TransferManager (classic, CRC32) call",
                     "value": ratio, "unit": "x", "target": "(informational)", "ok": None,
                     "note": f"{how}; {mibs[way]:.0f} MiB/s vs {mibs['tm']:.0f}; median of {rounds} rounds (range "
                             f"{min(ratios_ours[way]):.2f}-{max(ratios_ours[way]):.2f}); {load}"})
    rows.append({"name": f"upload {size // MiB} MiB end to end, ours (MiB/s)", "value": mibs["ours"], "unit": "MiB/s",
                 "target": "ratios above", "ok": None,
                 "note": f"TransferManager {mibs['tm']:.0f} MiB/s, obstore {mibs['obstore']:.0f} MiB/s; {load}"})
    return rows


def _memory(tmp: Path, base: dict, env: dict, full: bool) -> list[dict]:
    rows, peaks = [], {}
    for size_mib in ((256, 1024) if full else (64, 256)):
        src, sha = _file(tmp, size_mib * MiB)
        r = _ours(tmp / f"mem{size_mib}", src, sha, base, env)
        src.unlink()
        peaks[size_mib] = r["rss"]
        rows.append({"name": f"peak RSS uploading {size_mib} MiB (studio CLI, /usr/bin/time -v)",
                     "value": r["rss"] / MiB, "unit": "MiB", "target": "<= 150", "ok": r["rss"] <= RSS_LIMIT,
                     "note": f"`uploads enqueue` {r['rss_enqueue'] / MiB:.0f} MiB, `uploads run` "
                             f"{r['rss_run'] / MiB:.0f} MiB, imports included; part {PART // MiB} MiB x {CONCURRENCY}"})
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

    cycles = 20 if full else 4
    part, conc = 5 * MiB, 2
    data = tmp / "kills"
    from bench.wire_counter import WireCounter

    port = int(c["endpoint"].rsplit(":", 1)[1].split("/")[0])
    wire = WireCounter(port)
    studio = build(data)
    studio.targets.add(Target(name="k", bucket=c["bucket"], endpoint_url=wire.endpoint, addressing_style="path",
                              part_size=part, concurrency=conc, bandwidth_limit=8 * MiB, credential_source="aws",
                              key_template="kills/{job_id}/{name}"))
    src, _sha = _file(tmp, 4 * part + 12345)
    rng = random.Random(200)
    cmd = _studio(data, "uploads", "run", "--until-idle", "--json")
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
