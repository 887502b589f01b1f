"""Make the PyInstaller folder lean without losing a capability (run by studio.spec after COLLECT).

    python packaging/slim.py dist/studio [--report-only]

1. Drops what the app never loads: Qt plugins for platforms and features it does not use (the
   virtual keyboard; the PDF image format, which pulls Qt PDF; the GTK 3 platform
   theme, which pulls GTK, GDK, Pango, Cairo and ATK; eglfs/linuxfb/vnc/Vulkan-display platforms;
   Qt Multimedia's FFmpeg backend, which pulls Qt's own FFmpeg 7, Qt Quick and QML) and Qt's
   translations (the app installs no QTranslator). The media backend serves QMediaPlayer, QCamera and
   QMediaRecorder, none of which the app uses: its sound goes through QMediaDevices, QAudioSink and
   QAudioSource, which libQt6Multimedia runs on PulseAudio by itself (tests/test_packaged.py checks the
   packaged app finds a real sound server's microphone and speakers).
2. One FFmpeg for OpenCV and PyAV: opencv-python-headless and av ship the same FFmpeg major
   versions (libavcodec 62, libavformat 62, libavutil 60, libswscale 9); OpenCV's copies become
   links to PyAV's, and what only OpenCV's copies needed (its libvpx, OpenSSL 1.1) goes with them.
   The ffmpeg command-line binary stays: export, the publish ladder and probing run it.
3. Keeps botocore's service models for S3 alone and the services its credential chain calls (STS,
   SSO, SSO-OIDC): only studio.uploader talks to object storage, and only through an S3 client.
4. Strips symbols from every ELF file that still has them (``strip --strip-unneeded``).
5. Checks that every ELF file left finds each library it needs (in the bundle or on the system)
   and fails the build otherwise; prints the size breakdown.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

DROP = [
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/egldeviceintegrations",
    "PySide6/Qt/plugins/multimedia",
    "PySide6/Qt/translations",
]
# What only the plugins above load. Each goes only once nothing left in the bundle needs it.
DROP_IF_UNNEEDED = [
    "PySide6/Qt/lib/libQt6VirtualKeyboard.so.6", "PySide6/Qt/lib/libQt6VirtualKeyboardQml.so.6",
    "PySide6/Qt/lib/libQt6Pdf.so.6", "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6",
    "PySide6/Qt/lib/libQt6EglFsKmsSupport.so.6",
    "PySide6/Qt/lib/libavcodec.so.61", "PySide6/Qt/lib/libavformat.so.61", "PySide6/Qt/lib/libavutil.so.59",
    "PySide6/Qt/lib/libswresample.so.5", "PySide6/Qt/lib/libswscale.so.8",
    "PySide6/Qt/lib/libQt6FFmpegStub-va.so.2", "PySide6/Qt/lib/libQt6FFmpegStub-va-drm.so.2",
    "PySide6/Qt/lib/libQt6FFmpegStub-va-x11.so.2", "PySide6/Qt/lib/libQt6FFmpegStub-ssl.so.3",
    "PySide6/Qt/lib/libQt6FFmpegStub-crypto.so.3",
    "PySide6/Qt/lib/libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Qml.so.6", "PySide6/Qt/lib/libQt6QmlModels.so.6",
    "PySide6/Qt/lib/libQt6QmlMeta.so.6", "PySide6/Qt/lib/libQt6QmlWorkerScript.so.6",
    "PySide6/Qt/lib/libQt6OpenGL.so.6",
    "libgtk-3.so.0", "libgdk-3.so.0", "libatk-1.0.so.0", "libatk-bridge-2.0.so.0", "libatspi.so.0",
    "libcairo-gobject.so.2", "libcairo.so.2", "libpango-1.0.so.0", "libpangocairo-1.0.so.0",
    "libpangoft2-1.0.so.0", "libgdk_pixbuf-2.0.so.0", "libepoxy.so.0", "libpixman-1.so.0", "libthai.so.0",
    "libdatrie.so.1", "libfribidi.so.0", "libXcomposite.so.1", "libXdamage.so.1", "libXcursor.so.1",
    "libXinerama.so.1", "libXrandr.so.2", "libXi.so.6",
]
SHARED_FFMPEG = ("libavcodec", "libavformat", "libavutil", "libswscale", "libswresample")
ELF_MAGIC = b"\x7fELF"


def is_elf(p: Path) -> bool:
    try:
        with p.open("rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def elf_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]


def dynamic(p: Path) -> tuple[list[str], list[str]]:
    """(NEEDED names, RPATH/RUNPATH dirs) of an ELF file."""
    out = subprocess.run(["readelf", "-d", str(p)], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)
    paths = []
    for raw in re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[(.+?)\]", out):
        paths += [d.replace("$ORIGIN", str(p.parent)) for d in raw.split(":") if d]
    return needed, paths


def _unlink(p: Path) -> int:
    n = 0 if p.is_symlink() else p.stat().st_size
    p.unlink()
    return n


def drop_unused(internal: Path) -> int:
    freed = 0
    for rel in DROP:
        p = internal / rel
        if p.is_symlink() or p.is_file():
            freed += 0 if p.is_symlink() else p.stat().st_size
            p.unlink()
        elif p.is_dir():
            freed += sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())
            shutil.rmtree(p)
    while True:   # a library goes with the last file that needed it
        needed = set()
        for f in elf_files(internal):
            needed.update(dynamic(f)[0])
        gone = [internal / rel for rel in DROP_IF_UNNEEDED
                if (internal / rel).name not in needed and ((internal / rel).exists() or (internal / rel).is_symlink())]
        if not gone:
            return freed
        for p in gone:
            freed += _unlink(p)
            top = internal / p.name      # PyInstaller's link to it at the top of _internal
            if top != p and top.is_symlink():
                top.unlink()


def _soname_key(name: str) -> tuple[str, str] | None:
    """('libavcodec', '62') for an auditwheel name like libavcodec-c4204469.so.62.28.101."""
    m = re.match(r"^(lib[a-z0-9_]+)-[0-9a-f]{8}\.so\.(\d+)", name)
    return (m.group(1), m.group(2)) if m and m.group(1) in SHARED_FFMPEG else None


def share_ffmpeg(internal: Path) -> int:
    cv_libs, av_libs = internal / "opencv_python_headless.libs", internal / "av.libs"
    if not cv_libs.is_dir() or not av_libs.is_dir():
        return 0
    ours = {k: p for p in av_libs.iterdir() if (k := _soname_key(p.name)) and not p.is_symlink()}
    freed = 0
    for p in sorted(cv_libs.iterdir()):
        key = _soname_key(p.name)
        if key and key in ours and not p.is_symlink():
            freed += p.stat().st_size
            p.unlink()
            p.symlink_to(os.path.relpath(ours[key], p.parent))
    # auditwheel's folders hold only what their modules need: what nothing needs any more goes
    needed = set()
    for f in elf_files(internal):
        needed.update(dynamic(f)[0])
    for p in sorted(cv_libs.iterdir()):
        if not p.is_symlink() and p.name not in needed:
            freed += p.stat().st_size
            p.unlink()
    return freed


BOTOCORE_SERVICES = {"s3", "sts", "sso", "sso-oidc"}


def prune_botocore(internal: Path) -> int:
    data = internal / "botocore" / "data"
    freed = 0
    if data.is_dir():
        for p in sorted(data.iterdir()):
            if p.is_dir() and p.name not in BOTOCORE_SERVICES:
                freed += size(p)
                shutil.rmtree(p)
    return freed


def remove_dangling(internal: Path) -> None:
    for p in internal.rglob("*"):
        if p.is_symlink() and not p.exists():
            p.unlink()


def has_symbols(p: Path) -> bool:
    out = subprocess.run(["readelf", "-S", "-W", str(p)], capture_output=True, text=True).stdout
    return " .symtab " in out or " .debug_info " in out


def loadable(p: Path) -> bool:
    """Whether every PT_LOAD segment of an ELF64 file keeps offset ≡ address (mod its alignment): strip
    breaks that in some libraries patchelf rewrote (auditwheel's), and the loader then refuses them."""
    data = p.read_bytes()
    if data[:4] != ELF_MAGIC or data[4] != 2:
        return True
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _flags, offset, vaddr, _paddr, _filesz, _memsz, align = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if ptype == 1 and align > 1 and offset % align != vaddr % align:
            return False
    return True


def strip_all(root: Path) -> int:
    """strip --strip-unneeded each ELF file with symbols; a file strip would leave unloadable is kept as it was."""
    freed = 0
    for p in elf_files(root):
        if p.parent.name == "bin" or not has_symbols(p):
            continue
        before = p.stat().st_size
        keep = p.with_name(p.name + ".unstripped")
        shutil.copy2(p, keep)
        r = subprocess.run(["strip", "--strip-unneeded", str(p)], capture_output=True, text=True)
        if r.returncode == 0 and loadable(p):
            freed += before - p.stat().st_size
            keep.unlink()
        else:
            keep.replace(p)
    return freed


def system_libs() -> set[str]:
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines()[1:] if line.strip()}


def missing_libraries(root: Path) -> list[str]:
    internal = root / "_internal"
    system = system_libs()
    search = [internal, internal / "PySide6" / "Qt" / "lib"]
    problems = []
    for f in elf_files(root):
        needed, rpaths = dynamic(f)
        dirs = [Path(d) for d in rpaths] + [f.parent] + search
        for name in needed:
            if name in system or any((d / name).exists() for d in dirs):
                continue
            problems.append(f"{f.relative_to(root)} needs {name}")
    return problems


def size(p: Path) -> int:
    if p.is_symlink():
        return 0
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def report(root: Path, top: int = 14) -> str:
    internal = root / "_internal"
    items = [(size(p), p.relative_to(root)) for p in internal.iterdir()]
    items += [(size(root / "studio"), Path("studio"))]
    items.sort(reverse=True)
    total = size(root)
    lines = [f"{'MiB':>7}  item", *(f"{s / 2**20:7.1f}  {name}" for s, name in items[:top]),
             f"{sum(s for s, _ in items[top:]) / 2**20:7.1f}  ({len(items) - top} smaller items)",
             f"{total / 2**20:7.1f}  total ({root})"]
    return "\n".join(lines)


def slim(root: Path) -> None:
    internal = root / "_internal"
    freed = drop_unused(internal)
    freed += share_ffmpeg(internal)
    freed += prune_botocore(internal)
    remove_dangling(internal)
    stripped = strip_all(root)
    print(f"slim: dropped {freed / 2**20:.0f} MiB of unused plugins, libraries, service models and a second FFmpeg; "
          f"stripping saved {stripped / 2**20:.0f} MiB")
    problems = missing_libraries(root)
    if problems:
        raise SystemExit("slim: libraries missing after slimming:\n  " + "\n  ".join(problems))
    print(report(root))


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/studio")
    if "--report-only" in sys.argv:
        print(report(target))
    else:
        slim(target)
