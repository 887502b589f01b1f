"""`studio doctor`: what this installation has and lacks, with what to do about it."""

from __future__ import annotations

import platform
import shutil
import sys

from studio import __version__
from studio.capture.devices import list_cameras, list_microphones, list_speakers
from studio.db import database_status
from studio.media import ffmpeg
from studio.paths import DataLayout
from studio.uploader import local_s3

MIN_FREE_BYTES = 1024 ** 3  # below 1 GiB a single 1080p take can fill the disk


def _ffmpeg() -> dict:
    try:
        path = ffmpeg.ffmpeg_exe()
        enc = ffmpeg.encoders()
        ok = all(enc.values())
        return {"ok": ok, "path": path, "version": ffmpeg.version(), "encoders": enc,
                "fix": None if ok else "This ffmpeg lacks libx264 or aac; set STUDIO_FFMPEG to a full build."}
    except Exception as e:  # noqa: BLE001 - reported
        return {"ok": False, "path": None, "version": None, "encoders": {}, "fix": str(e)}


def _data_dir(layout: DataLayout) -> dict:
    probe = layout.data / ".doctor-write-test"
    try:
        layout.ensure()
        probe.write_bytes(b"ok")
        probe.unlink()
        writable, fix = True, None
    except OSError as e:
        writable, fix = False, f"Cannot write to {layout.data} ({e.strerror}); choose another --data-dir."
    usage = shutil.disk_usage(layout.data if layout.data.exists() else layout.data.parent)
    low = usage.free < MIN_FREE_BYTES
    if low and fix is None:
        fix = f"Only {usage.free // 2**20} MiB free; free some space so recordings and drafts are safe."
    return {"ok": writable, "path": str(layout.data), "cache": str(layout.cache), "config": str(layout.config),
            "writable": writable, "free_bytes": usage.free, "low_space": low, "fix": fix}


def _keyring() -> dict:
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        usable = not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 1) > 0
        return {"ok": True, "backend": name, "usable": usable,
                "note": None if usable else "No keyring backend: credentials come from the AWS credential chain "
                                            "(environment or ~/.aws profile); nothing is stored in plain text."}
    except Exception as e:  # noqa: BLE001
        return {"ok": True, "backend": None, "usable": False, "note": str(e)}


def _qt() -> dict:
    try:
        import PySide6
        from PySide6 import QtCore

        return {"ok": True, "pyside": PySide6.__version__, "qt": QtCore.qVersion()}
    except ImportError as e:
        return {"ok": False, "pyside": None, "qt": None, "fix": f"PySide6 missing ({e}); run `make setup`."}


def run_checks(layout: DataLayout) -> dict:
    cams = list_cameras()
    mics, mic_note = list_microphones()
    speakers, speaker_note = list_speakers()
    report = {
        "app": {"name": "Reel Studio", "version": __version__},
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "qt": _qt(),
        "ffmpeg": _ffmpeg(),
        "cameras": [c.to_dict() for c in cams],
        "cameras_note": None if cams else "No camera found: the synthetic test source is offered instead.",
        "microphones": [m.to_dict() for m in mics],
        "microphones_note": mic_note or (None if mics else "No microphone found: takes are recorded without sound."),
        "speakers": [s.to_dict() for s in speakers],
        "speakers_note": speaker_note or (None if speakers else "No sound output found: playback is silent."),
        "data_dir": _data_dir(layout),
        "database": database_status(layout.database),
        "keyring": _keyring(),
        "local_s3": local_s3.status(layout),
    }
    required = ("qt", "ffmpeg", "data_dir", "database", "local_s3")
    report["ok"] = all(report[k]["ok"] for k in required)
    report["problems"] = [f"{k}: {report[k].get('fix') or report[k].get('state')}" for k in required
                          if not report[k]["ok"]]
    return report


def format_report(r: dict) -> str:
    def mark(ok: bool) -> str:
        return "ok  " if ok else "FAIL"

    ff, dd, db, s3, kr = r["ffmpeg"], r["data_dir"], r["database"], r["local_s3"], r["keyring"]
    enc = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in ff["encoders"].items())
    lines = [
        f"Reel Studio {r['app']['version']}  (Python {r['python']['version']}, "
        f"Qt {r['qt'].get('qt')}, PySide6 {r['qt'].get('pyside')})",
        f"[{mark(ff['ok'])}] ffmpeg {ff['version']} at {ff['path']} — encoders: {enc}",
        f"[{mark(dd['ok'])}] data folder {dd['path']} — {'writable' if dd['writable'] else 'NOT writable'}, "
        f"{dd['free_bytes'] / 2**30:.1f} GiB free{' (LOW)' if dd['low_space'] else ''}",
        f"[{mark(db['ok'])}] database {db['path']} — {db['state']} (schema {db['revision']}, app {db['head']})",
        f"[{mark(s3['ok'])}] local S3 (SeaweedFS {s3.get('version')}) — {s3['state']}",
        f"[info] keyring: {kr['backend']}{'' if kr['usable'] else ' — ' + str(kr['note'])}",
        f"[info] cameras: {', '.join(c['name'] for c in r['cameras']) or r['cameras_note']}",
        f"[info] microphones: {', '.join(m['name'] for m in r['microphones']) or r['microphones_note']}",
        f"[info] sound output: {', '.join(s['name'] for s in r['speakers']) or r['speakers_note']}",
    ]
    for k in ("ffmpeg", "data_dir"):
        if r[k].get("fix"):
            lines.append(f"  → {r[k]['fix']}")
    lines.append("All required parts are present." if r["ok"] else
                 "Something required is missing:\n  " + "\n  ".join(r["problems"]))
    return "\n".join(lines)
