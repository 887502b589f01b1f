"""The .deb (`make deb`; `make package-test` and CI run this after the packaged-folder tests).

Skipped unless STUDIO_DEB names the built package. Its contents are checked anywhere; installing
it (dpkg -i, `studio --version`, the window under Xvfb, dpkg -r) needs root: elsewhere the test
prints what it would run and skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaged
DEB = os.environ.get("STUDIO_DEB")
PACKAGE = "reel-studio"


@pytest.fixture(scope="module")
def deb() -> Path:
    if not DEB:
        pytest.skip("set STUDIO_DEB to the built .deb (make package-test)")
    path = Path(DEB).resolve()
    assert path.is_file(), f"{path} was not built"
    return path


def _field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True).stdout.strip()


def test_deb_has_its_name_version_and_derived_depends(deb: Path):
    from studio import __version__

    assert deb.name == f"{PACKAGE}_{__version__}_amd64.deb"
    assert _field(deb, "Package") == PACKAGE and _field(deb, "Version") == __version__
    assert _field(deb, "Architecture") == "amd64"
    depends = [d.split()[0] for d in _field(deb, "Depends").split(", ")]
    # what the bundle needs and does not ship: the C library, OpenGL/EGL for Qt's xcb platform
    assert "libc6" in depends, depends
    assert any(d.startswith(("libgl1", "libopengl0", "libglx0", "libegl1")) for d in depends), depends


def test_deb_holds_the_app_command_desktop_entry_and_icons(deb: Path, tmp_path: Path):
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    assert os.access(tmp_path / "opt" / PACKAGE / "studio", os.X_OK)
    wrapper = tmp_path / "usr/bin/studio"
    assert os.access(wrapper, os.X_OK) and f"/opt/{PACKAGE}/studio" in wrapper.read_text()
    desktop = tmp_path / f"usr/share/applications/{PACKAGE}.desktop"
    text = desktop.read_text()
    assert "Exec=studio %F" in text and f"Icon={PACKAGE}" in text and "video/mp4" in text
    if shutil.which("desktop-file-validate"):
        r = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    for n in (48, 128, 256):
        png = tmp_path / f"usr/share/icons/hicolor/{n}x{n}/apps/{PACKAGE}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / f"usr/share/icons/hicolor/scalable/apps/{PACKAGE}.svg").is_file()


def _clean_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "STUDIO_FFMPEG", "STUDIO_WEED", "QT_QPA_PLATFORM")}
    env["PATH"] = "/usr/bin:/bin"
    env["HOME"] = str(tmp / "home")
    (tmp / "home").mkdir(exist_ok=True)
    return env


def test_deb_installs_starts_and_removes(deb: Path, tmp_path: Path):
    steps = [f"dpkg -i {deb}", "studio --version",
             "xvfb-run -a studio --data-dir DIR --quit-after 3", f"dpkg -r {PACKAGE}"]
    if os.geteuid() != 0:
        print("not root; as root this test runs:\n  " + "\n  ".join(steps))
        pytest.skip("installing the .deb needs root")
    if subprocess.run(["dpkg", "-s", PACKAGE], capture_output=True).returncode == 0:
        pytest.skip(f"{PACKAGE} is already installed here; not touching it")
    if not shutil.which("xvfb-run"):
        pytest.skip("xvfb-run is missing (make system-deps installs xvfb)")
    r = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        env = _clean_env(tmp_path)
        assert Path("/usr/bin/studio").is_file()
        v = subprocess.run(["studio", "--version"], capture_output=True, text=True, env=env, timeout=120,
                           stdin=subprocess.DEVNULL, cwd=tmp_path)
        assert v.returncode == 0 and v.stdout.startswith("Reel Studio "), v.stdout + v.stderr
        data = tmp_path / "d"
        w = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", "studio", "--data-dir", str(data),
                            "--quit-after", "3"], capture_output=True, text=True, env=env, timeout=180,
                           stdin=subprocess.DEVNULL, cwd=tmp_path)
        assert w.returncode == 0, w.stdout + w.stderr
        log = (data / "logs" / "studio.log").read_text()
        assert "main window shown" in log and "Traceback" not in log, log
    finally:
        r = subprocess.run(["dpkg", "-r", PACKAGE], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not Path("/usr/bin/studio").exists() and not Path(f"/opt/{PACKAGE}").exists()
