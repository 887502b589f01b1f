"""Where Reel Studio keeps things, resolved once.

Layout (see DESIGN.md, "Where data lives"):

    <data>/studio.db        SQLite database (WAL)
    <data>/media/           media of saved drafts
    <data>/logs/            rotating logs
    <data>/local-s3/        the embedded SeaweedFS server's files
    <cache>/takes/          recordings in progress and unsaved takes
    <cache>/thumbs/         thumbnails (bounded, LRU)
    <cache>/staging/        frozen exports waiting for upload
    <config>/settings.ini   QSettings (INI format, so it lives where we say)

With ``--data-dir DIR`` or ``STUDIO_DATA_DIR`` every one of these lives under DIR
(``DIR/``, ``DIR/cache``, ``DIR/config``) so tests and users can run isolated profiles.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from studio import APP_ID

ENV_DATA_DIR = "STUDIO_DATA_DIR"


@dataclass(frozen=True)
class DataLayout:
    data: Path
    cache: Path
    config: Path
    isolated: bool = False

    @property
    def database(self) -> Path:
        return self.data / "studio.db"

    @property
    def media(self) -> Path:
        return self.data / "media"

    @property
    def logs(self) -> Path:
        return self.data / "logs"

    @property
    def local_s3(self) -> Path:
        return self.data / "local-s3"

    @property
    def backups(self) -> Path:
        return self.data / "backups"

    @property
    def takes(self) -> Path:
        return self.cache / "takes"

    @property
    def thumbs(self) -> Path:
        return self.cache / "thumbs"

    @property
    def staging(self) -> Path:
        return self.cache / "staging"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.ini"

    def all_dirs(self) -> list[Path]:
        return [self.data, self.media, self.logs, self.local_s3, self.backups,
                self.cache, self.takes, self.thumbs, self.staging, self.config]

    def ensure(self) -> "DataLayout":
        """Create every folder (first run). Raises OSError if the location is not writable."""
        for d in self.all_dirs():
            d.mkdir(parents=True, exist_ok=True)
        return self

    def relative(self, path: Path) -> str:
        """A media path as stored in SQLite: relative to the data folder, with forward slashes."""
        return Path(path).resolve().relative_to(self.data.resolve()).as_posix()

    def absolute(self, rel: str) -> Path:
        return self.data / rel


def resolve(data_dir: str | os.PathLike | None = None) -> DataLayout:
    """Resolve the layout: explicit argument, then $STUDIO_DATA_DIR, then the platform's folders."""
    chosen = data_dir or os.environ.get(ENV_DATA_DIR)
    if chosen:
        root = Path(chosen).expanduser().absolute()
        return DataLayout(data=root, cache=root / "cache", config=root / "config", isolated=True)
    import platformdirs

    return DataLayout(
        data=Path(platformdirs.user_data_dir(APP_ID, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_ID, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_ID, appauthor=False)),
    )


def confine_process_state(layout: DataLayout) -> None:
    """With an isolated profile, point the XDG folders at it too.

    Qt (fontconfig cache, QStandardPaths), keyring file backends and child processes would
    otherwise write into the user's home; an isolated profile promises nothing outside DIR.
    """
    if not layout.isolated:
        return
    xdg = layout.data / ".xdg"
    for var, sub in (("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
        os.environ[var] = str(xdg / sub)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(xdg / "runtime"))
    for sub in ("cache", "config", "data", "state", "runtime"):
        (xdg / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(xdg / "runtime", 0o700)


def bundle_root() -> Path:
    """Where read-only resources live: the PyInstaller bundle, or the source checkout."""
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        return Path(meipass)
    return Path(__file__).resolve().parent.parent


def resource(*parts: str) -> Path:
    """A file under resources/, found the same way from source and from the packaged app."""
    return bundle_root().joinpath("resources", *parts)


