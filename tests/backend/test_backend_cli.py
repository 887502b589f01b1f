"""`studio backend` as an admin types it (the command's own main(), in this process: no server starts in
these cases): bad input is a sentence and exit 2; devices are added, listed and revoked."""

from __future__ import annotations

import json

import pytest

from studio.cli import main


@pytest.fixture
def backend_cli(capsys, monkeypatch):
    """``backend_cli(*args) -> (exit status, stdout, stderr)`` of `studio backend …`."""
    monkeypatch.delenv("STUDIO_WEBHOOK_SECRET", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["backend", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_serve_refuses_bad_input_with_a_sentence(tmp_path, backend_cli):
    db = ["--db", str(tmp_path / "b.db")]
    cases = [
        ([*db, "--part-url-ttl", "0"], "part URL lives"),
        ([*db, "--port", "70000"], "port"),
        ([*db, "--webhook", "https://hooks.example.com/x"], "STUDIO_WEBHOOK_SECRET"),
        ([*db, "--webhook", "not a url", "--webhook-unsigned"], "not an http"),
        ([*db, "--key-prefix", "../up/"], "--key-prefix"),
        ([*db, "--cors-origin", "studio.example.com"], "--cors-origin"),
        ([*db, "--filer-token-env", "NO_SUCH_VAR_FOR_TEST"], "is not set"),
        (["--db", "nosuchdialect://x/y"], "cannot be used"),
    ]
    for extra, said in cases:
        code, _out, err = backend_cli("serve", "--bucket", "reels", *extra)
        assert code == 2, (extra, err)
        assert said in err and "Traceback" not in err, (extra, err)


def test_devices_add_list_revoke(tmp_path, backend_cli):
    db = str(tmp_path / "b.db")
    code, out, err = backend_cli("add-device", "Ana's laptop", "--db", db, "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["token"].startswith("rsd_") and added["device"]["active"]
    code, out, _ = backend_cli("list-devices", "--db", db, "--json")
    assert [d["name"] for d in json.loads(out)] == ["Ana's laptop"] and "rsd_" not in out
    assert added["token"] not in (tmp_path / "b.db").read_bytes().decode("latin-1")   # only its hash
    code, _, err = backend_cli("revoke-device", "nobody", "--db", db)
    assert code == 1 and "no device 'nobody'" in err
    code, _, err = backend_cli("add-device", "bad/name", "--db", db)
    assert code == 1 and "device name" in err
    code, out, err = backend_cli("revoke-device", added["device"]["id"], "--db", db, "--json")
    assert code == 0 and json.loads(out)["device"]["active"] is False
