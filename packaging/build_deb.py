"""`make deb`: dist/reel-studio_<version>_amd64.deb from the PyInstaller folder dist/studio.

    python packaging/build_deb.py [--dist dist/studio] [--out dist] [--work build/deb]

Layout: the app in /opt/reel-studio, the `studio` command in /usr/bin (a two-line wrapper: the
bundle finds its _internal folder next to the real executable), the desktop entry
(/usr/share/applications/reel-studio.desktop, checked with desktop-file-validate), the icon in the
hicolor theme (SVG and 48/128/256 px PNGs rendered from resources/icons/app.svg). `Depends:` is
derived, not typed: every library an ELF file of the bundle needs that the bundle does not ship is
looked up with `dpkg -S` and its package named (with the installed upstream version as a floor).
Debian's triggers of desktop-file-utils and hicolor-icon-theme refresh the menus and icon caches,
so the package has no maintainer scripts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))

import slim  # noqa: E402
from studio import APP_ID, APP_NAME, __version__  # noqa: E402

PACKAGE = APP_ID                 # reel-studio: also the desktop file's name (QApplication.setDesktopFileName)
PREFIX = Path("opt") / PACKAGE
# the containers the Drafts page and `studio FILE…` import (VIDEO_FILTER in studio/ui/pages/drafts.py)
MIME_TYPES = ["video/mp4", "video/quicktime", "video/x-m4v", "video/x-matroska", "video/webm", "video/x-msvideo"]
ICON_SIZES = (48, 128, 256)

DESKTOP = f"""[Desktop Entry]
Type=Application
Name={APP_NAME}
GenericName=Video Editor
Comment=Record, edit and upload short vertical videos
Exec=studio %F
TryExec=studio
Icon={PACKAGE}
Terminal=false
StartupNotify=true
Categories=AudioVideo;Video;AudioVideoEditing;Recorder;
MimeType={";".join(MIME_TYPES)};
Keywords=reel;video;record;edit;upload;vertical;
"""

WRAPPER = f"""#!/bin/sh
exec /{PREFIX}/studio "$@"
"""


def render_icons(svg: Path, root: Path) -> None:
    """The hicolor icons: the SVG as is, and PNGs rendered by Qt's SVG renderer."""
    scalable = root / "usr/share/icons/hicolor/scalable/apps"
    scalable.mkdir(parents=True)
    shutil.copy2(svg, scalable / f"{PACKAGE}.svg")
    sizes = ",".join(str(s) for s in ICON_SIZES)
    code = (
        "import sys\n"
        "from PySide6.QtGui import QGuiApplication, QImage, QPainter\n"
        "from PySide6.QtSvg import QSvgRenderer\n"
        "from PySide6.QtCore import Qt\n"
        "app = QGuiApplication(['icons'])\n"
        "svg, out = sys.argv[1], sys.argv[2]\n"
        f"for n in ({sizes},):\n"
        "    img = QImage(n, n, QImage.Format_ARGB32)\n"
        "    img.fill(Qt.transparent)\n"
        "    p = QPainter(img)\n"
        "    QSvgRenderer(svg).render(p)\n"
        "    p.end()\n"
        "    assert img.save(f'{out}/{n}x{n}/apps/" + PACKAGE + ".png'), n\n")
    for n in ICON_SIZES:
        (root / f"usr/share/icons/hicolor/{n}x{n}/apps").mkdir(parents=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-c", code, str(svg), str(root / "usr/share/icons/hicolor")], check=True, env=env)


def _ldconfig() -> dict[str, str]:
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \((.+?)\) => (\S+)", line)
        if m and "x86-64" in m.group(2):
            found.setdefault(m.group(1), m.group(3))
    return found


def _owner(path: str) -> str | None:
    for candidate in dict.fromkeys([path, os.path.realpath(path), path.replace("/usr/lib/", "/lib/", 1),
                                    path.replace("/lib/", "/usr/lib/", 1)]):
        r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].strip()
    return None


def _upstream(package: str) -> str | None:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout:
        return None
    version = r.stdout.split(":", 1)[-1]            # no epoch
    return re.split(r"[-+~]", version, maxsplit=1)[0]


def system_dependencies(bundle: Path) -> tuple[list[str], list[str]]:
    """(Depends entries, sonames no package owns) for the libraries the bundle needs but does not ship."""
    internal = bundle / "_internal"
    shipped = {p.name for p in bundle.rglob("*") if p.is_file() or p.is_symlink()}
    needed: set[str] = set()
    for f in slim.elf_files(bundle):
        names, rpaths = slim.dynamic(f)
        for name in names:
            dirs = [Path(d) for d in rpaths] + [f.parent, internal, internal / "PySide6" / "Qt" / "lib"]
            if name not in shipped or not any((d / name).exists() for d in dirs):
                needed.add(name)
    system = _ldconfig()
    packages: dict[str, str | None] = {}
    unowned = []
    for name in sorted(needed):
        path = system.get(name)
        owner = _owner(path) if path else None
        if owner is None:
            unowned.append(name)
            continue
        packages[owner] = _upstream(owner)
    depends = [f"{p} (>= {v})" if v else p for p, v in sorted(packages.items())]
    return depends, unowned


def build(dist: Path, out: Path, work: Path) -> Path:
    if not (dist / "studio").is_file():
        raise SystemExit(f"{dist}/studio not found: run `make package` first")
    root = work / "root"
    if work.exists():
        shutil.rmtree(work)
    (root / "DEBIAN").mkdir(parents=True)
    app = root / PREFIX
    shutil.copytree(dist, app, symlinks=True)
    bindir = root / "usr/bin"
    bindir.mkdir(parents=True)
    (bindir / "studio").write_text(WRAPPER)
    (bindir / "studio").chmod(0o755)
    apps = root / "usr/share/applications"
    apps.mkdir(parents=True)
    desktop = apps / f"{PACKAGE}.desktop"
    desktop.write_text(DESKTOP)
    if shutil.which("desktop-file-validate"):
        r = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        if r.returncode != 0 or "error" in r.stdout.lower():
            raise SystemExit(f"desktop-file-validate: {r.stdout}{r.stderr}")
    else:
        print("deb: desktop-file-validate not installed (apt-get install desktop-file-utils); entry not checked")
    render_icons(ROOT / "resources/icons/app.svg", root)
    doc = root / "usr/share/doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        f"{APP_NAME}\n\nThe bundled components keep their own licences; their notices are inside "
        f"/{PREFIX}/_internal (FFmpeg: LGPL/GPL, Qt for Python: LGPLv3, SeaweedFS: Apache-2.0, OpenCV: Apache-2.0).\n")
    depends, unowned = system_dependencies(dist)
    if unowned:
        print("deb: no package owns " + ", ".join(unowned) + " (left out of Depends)")
    installed_kib = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    control = {
        "Package": PACKAGE,
        "Version": __version__,
        "Architecture": "amd64",
        "Maintainer": f"{APP_NAME} developers <noreply@localhost>",
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(depends),
        "Recommends": "xdg-utils, fonts-dejavu-core",
        "Section": "video",
        "Priority": "optional",
        "Description": f"{APP_NAME}: record, edit and upload short vertical videos\n"
                       " A desktop creator studio: record takes from a webcam, edit them non-destructively\n"
                       " into a vertical reel, keep drafts that survive anything, export, and upload\n"
                       " resumably to S3-compatible storage (a local SeaweedFS is built in).",
    }
    (root / "DEBIAN/control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()))
    out.mkdir(parents=True, exist_ok=True)
    deb = out / f"{PACKAGE}_{__version__}_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "-z9", "--build", str(root), str(deb)], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"deb: {deb} ({deb.stat().st_size / 2**20:.1f} MiB; installed {installed_kib / 1024:.0f} MiB)")
    print("deb: Depends: " + control["Depends"])
    return deb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dist", default=str(ROOT / "dist" / "studio"))
    ap.add_argument("--out", default=str(ROOT / "dist"))
    ap.add_argument("--work", default=str(ROOT / "build" / "deb"))
    args = ap.parse_args()
    build(Path(args.dist), Path(args.out), Path(args.work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
