"""The `studio targets`, `studio uploads` and `studio local-s3` commands, as a user types them."""

from __future__ import annotations

import json
import socket
import subprocess

from uploader_helpers import MiB, make_file, sha256_of


def _json(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _add(cli, s3_server, name="box", *, secret=None, bucket=None, endpoint=None):
    return cli("targets", "add", name, "--bucket", bucket or s3_server["bucket"], "--endpoint",
               endpoint or s3_server["endpoint"], "--addressing-style", "path", "--credentials", "keyring",
               "--access-key", s3_server["access_key"], "--part-size", "5MiB", "--key-template",
               f"cli-{name}/{{name}}", "--json",
               env={"STUDIO_SECRET_ACCESS_KEY": secret or s3_server["secret_key"]})


def test_targets_add_list_test_remove(cli, s3_server, data_dir):
    assert _add(cli, s3_server).returncode == 0
    listed = _json(cli("targets", "list", "--json"))
    assert [t["name"] for t in listed] == ["local", "box"]
    assert s3_server["secret_key"] not in json.dumps(listed)
    db = (data_dir / "studio.db").read_bytes()
    assert s3_server["secret_key"].encode() not in db   # secrets live in the keyring only
    verdict = _json(cli("targets", "test", "box", "--json"))
    assert verdict["ok"] and "works" in verdict["verdict"]
    assert _json(cli("targets", "remove", "box", "--json"))["ok"]
    assert [t["name"] for t in _json(cli("targets", "list", "--json"))] == ["local"]


def test_target_test_verdicts(cli, s3_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    _add(cli, s3_server, "down", endpoint=f"http://127.0.0.1:{closed}")
    _add(cli, s3_server, "badkey", secret="wrong")
    _add(cli, s3_server, "nobucket", bucket="missing-bucket-xyz")
    verdicts = {}
    for name in ("down", "badkey", "nobucket"):
        r = cli("targets", "test", name, "--json")
        assert r.returncode == 1
        verdicts[name] = json.loads(r.stdout)["verdict"]
    assert "Cannot reach 127.0.0.1" in verdicts["down"]
    assert "secret key" in verdicts["badkey"]
    assert "missing-bucket-xyz does not exist" in verdicts["nobucket"]


def test_no_keyring_says_so_and_offers_the_aws_chain(cli, s3_server):
    r = cli("targets", "add", "x", "--bucket", "b", "--credentials", "keyring", "--access-key", "AK",
            env={"STUDIO_SECRET_ACCESS_KEY": "s3cr3t-value", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode == 1
    assert "no keyring" in r.stderr and "--credentials aws" in r.stderr
    assert "s3cr3t-value" not in r.stderr + r.stdout
    ok = cli("targets", "add", "x", "--bucket", "b", "--credentials", "aws", "--profile", "work",
             env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert ok.returncode == 0, ok.stderr


def test_uploads_commands(cli, s3_server, raw_s3, tmp_path, data_dir):
    _add(cli, s3_server)
    src = make_file(tmp_path / "clip.mp4", 11 * MiB)
    job_id = cli("uploads", "enqueue", str(src), "--target", "box").stdout.strip()
    assert len(job_id) == 32
    assert _json(cli("uploads", "pause", job_id[:10], "--json"))["job"]["state"] == "PAUSED"
    assert _json(cli("uploads", "resume", job_id, "--json"))["job"]["state"] == "PENDING"
    run = cli("--verbose", "uploads", "run", "--until-idle")
    assert run.returncode == 0, run.stderr
    logs = "".join(p.read_text(errors="replace") for p in (data_dir / "logs").rglob("*") if p.is_file())
    assert "COMPLETED" in run.stderr and s3_server["secret_key"] not in logs + run.stderr   # never in logs
    assert "COMPLETED" in run.stderr and "100.0%" in run.stderr
    jobs = _json(cli("uploads", "list", "--json"))
    assert len(jobs) == 1
    j = jobs[0]
    assert {k: j[k] for k in ("id", "state", "bytes_total", "bytes_done", "error")} == \
        {"id": job_id, "state": "COMPLETED", "bytes_total": 11 * MiB, "bytes_done": 11 * MiB, "error": None}
    assert sha256_of(raw_s3.get_object(Bucket=j["bucket"], Key=j["key"])["Body"].read()) == sha256_of(src.read_bytes())
    r = cli("uploads", "cancel", job_id, "--json")
    assert r.returncode == 1 and "COMPLETED" in json.loads(r.stdout)["error"]
    missing = cli("uploads", "enqueue", "0" * 32, "--target", "box")
    assert missing.returncode != 0 and "studio:" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_enqueue_and_run_in_one_command(cli, s3_server, raw_s3, tmp_path):
    """`uploads enqueue FILE --run`: queued, then uploaded in the same process to the end; stdout is the
    run's result (one JSON document), the job id and progress go to stderr."""
    _add(cli, s3_server)
    src = make_file(tmp_path / "now.mp4", 6 * MiB + 1)
    out = _json(cli("uploads", "enqueue", str(src), "--target", "box", "--run", "--json"))
    assert out["ok"] and out["completed"] == 1 and len(out["jobs"]) == 1
    job = out["jobs"][0]
    assert job["state"] == "COMPLETED" and job["verified"] and job["sha256"] == sha256_of(src.read_bytes())
    assert sha256_of(raw_s3.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read()) == job["sha256"]
    again = cli("uploads", "enqueue", str(src), "--target", "box", "--run")
    assert again.returncode == 0 and "queued" in again.stderr and "COMPLETED" in again.stderr
    assert "completed 1" in again.stdout


def test_local_s3_start_status_stop(cli, data_dir, tmp_path):
    started = _json(cli("local-s3", "start", "--json"))
    try:
        st = _json(cli("local-s3", "status", "--json", "--show-credentials"))
        assert st["running"] and st["endpoint"] == started["endpoint"]
        assert {"endpoint", "bucket", "access_key", "secret_key"} <= set(st)
        # Every port the server opened is on 127.0.0.1.
        ss = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        mine = [ln.split()[3] for ln in ss.splitlines() if f"pid={st['pid']}," in ln]
        assert len(mine) >= 8 and all(a.startswith("127.0.0.1:") for a in mine), mine
        assert not (data_dir / "local-s3" / "credentials.json").exists()   # the test keyring holds them
        # `uploads` to the default target uses it as is.
        src = make_file(tmp_path / "local.mp4", 6 * MiB)
        job_id = cli("uploads", "enqueue", str(src)).stdout.strip()
        assert cli("uploads", "run", "--until-idle").returncode == 0
        job = _json(cli("uploads", "list", "--json"))[0]
        assert job["id"] == job_id and job["state"] == "COMPLETED"
        import boto3

        s3 = boto3.client("s3", endpoint_url=st["endpoint"], aws_access_key_id=st["access_key"],
                          aws_secret_access_key=st["secret_key"], region_name="us-east-1")
        assert sha256_of(s3.get_object(Bucket=st["bucket"], Key=job["key"])["Body"].read()) == sha256_of(src.read_bytes())
        assert _json(cli("local-s3", "status", "--json"))["running"]   # `start` left it running
    finally:
        assert _json(cli("local-s3", "stop", "--json"))["was_running"]
    assert not _json(cli("local-s3", "status", "--json"))["running"]
