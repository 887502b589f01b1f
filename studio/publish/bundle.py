"""The post bundle: everything a viewer's browser or a player needs, in one folder, keyed by its place.

    bundle = build_bundle(edit, assets, folder, post_id=..., title=..., urls=None)

Layout (relative paths are also the keys under ``posts/<post_id>/``)::

    1080p/ 720p/ 480p/ 360p/   index.m3u8 (VOD), init_N.mp4, seg_NNN.m4s (fMP4, 2 s, aligned keyframes)
    master.m3u8                every rung with BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION, CODECS
    poster.jpg                 the cover frame (the tray's cover painter), full size
    index.html                 the share page: BlurHash at once, poster, hls.js (Safari: native HLS)
    hls.min.js, hls.js-LICENSE the vendored player and its licence
    captions/<lang>.vtt        WebVTT captions, when the edit has them
    manifest.json              title, caption, duration, renditions, poster, BlurHash, created, every
                               other file with its size and sha256

``urls``: None when the files are read where they lie (a public base URL, "This computer"): every
reference is relative. Otherwise ``urls(path) -> absolute URL`` (pre-signed), and the playlists and
the page carry those URLs.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from studio import paths
from studio.durable import atomic_write_bytes, fsync_dir, fsync_file, sha256_file
from studio.drafts.thumbs import cover_image, image_bytes, lqip_from_jpeg
from studio.editor.document import Edit, cover_frame
from studio.errors import StudioError, user_message
from studio.media.probe import MediaError
from studio.publish.ladder import SEGMENT_S, build_ladder, write_master

log = logging.getLogger(__name__)

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
MANIFEST = "manifest.json"
MASTER = "master.m3u8"
SHARE_PAGE = "index.html"
POSTER = "poster.jpg"
FINAL = (MASTER, SHARE_PAGE, MANIFEST)     # uploaded last, in this order: the post is reachable only then

_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".m4s": "video/iso.segment", ".mp4": "video/mp4",
          ".jpg": "image/jpeg", ".json": "application/json", ".html": "text/html; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".vtt": "text/vtt; charset=utf-8",
          ".txt": "text/plain; charset=utf-8"}


class BundleError(StudioError, RuntimeError):
    """The bundle could not be made; ``str(e)`` says why."""


def content_type(path: str) -> str:
    return _TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def cache_control(path: str) -> str:
    """Segments, init files, the poster and the player never change under their key: a year, immutable.
    Playlists, the share page and the manifest: a minute (what a CDN may serve stale at most)."""
    return SHORT if Path(path).suffix in (".m3u8", ".json", ".html") else IMMUTABLE


@dataclass(frozen=True)
class BundleFile:
    path: str          # relative, "/"-separated: also its key under the post's prefix
    size: int
    sha256: str
    content_type: str
    cache_control: str

    @property
    def final(self) -> bool:
        return self.path in FINAL


@dataclass(frozen=True)
class Bundle:
    folder: Path
    manifest: dict
    files: list[BundleFile]      # upload order: everything else, then master, share page, manifest

    def file_dicts(self) -> list[dict]:
        return [{"path": str(self.folder / f.path), "rel": f.path, "size": f.size, "sha256": f.sha256,
                 "content_type": f.content_type, "cache_control": f.cache_control, "final": f.final}
                for f in self.files]


StageFn = Callable[[str, float], None]    # (stage, fraction of that stage)


def build_bundle(edit: Edit, assets: Mapping, folder: Path, *, post_id: str, title: str, caption: str = "",
                 draft_id: str | None = None, revision: int | None = None, urls: Callable[[str], str] | None = None,
                 overlay_dir: Path | None = None, on_stage: StageFn | None = None,
                 cancel: threading.Event | None = None) -> Bundle:
    """Build the whole bundle into ``folder`` (replaced). Stages: "exporting" (begun), then "building"
    (the ladder, one ffmpeg pass, while the poster — the cover frame composed by the render graph — is
    made beside it). Raises BundleError, LadderError / LadderCancelled."""
    stage = on_stage or (lambda *_: None)
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    stage("exporting", 0.0)

    def make_poster():  # noqa: ANN202 - (PIL image, JPEG bytes, BlurHash)
        try:
            image = cover_image(edit, assets, overlay_dir=overlay_dir)
        except MediaError as e:
            raise BundleError(f"The cover frame could not be made: {user_message(e)}") from e
        if image.size != (edit.canvas.width, edit.canvas.height):
            from PIL import Image

            image = image.resize((edit.canvas.width, edit.canvas.height), Image.LANCZOS)
        data = image_bytes(image)
        (folder / POSTER).write_bytes(data)
        return image, data, lqip_from_jpeg(data)

    # The poster (one frame composed by the render graph: mostly ffmpeg's start and seek) is made
    # while the ladder encodes, so the creator does not wait for it after the ladder.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="poster") as pool:
        posting = pool.submit(make_poster)
        stage("building", 0.0)
        try:
            renditions = build_ladder(edit, assets, folder, overlay_dir=overlay_dir,
                                      on_progress=lambda f: stage("building", f), cancel=cancel)
        except BaseException:
            posting.cancel()   # the ladder's error (or the cancel) is the one to report
            raise
        poster, jpeg, blurhash = posting.result()
    if urls is not None:
        _absolute_playlists(folder, renditions, urls)
    shutil.copyfile(paths.resource("web", "hls.js", "hls.min.js"), folder / "hls.min.js")
    shutil.copyfile(paths.resource("web", "hls.js", "LICENSE"), folder / "hls.js-LICENSE.txt")
    captions = _write_captions(edit, folder)
    link = urls or (lambda p: p)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_share_page(folder, title=title, caption=caption, blurhash=blurhash, link=link,
                      aspect=f"{edit.canvas.width} / {edit.canvas.height}", duration_us=edit.duration_us)
    files = [_describe(folder, p) for p in _bundle_paths(folder) if p not in FINAL]
    files += [_describe(folder, MASTER), _describe(folder, SHARE_PAGE)]
    manifest = {
        "format": "reel-studio-post", "version": 1, "post_id": post_id, "title": title, "caption": caption,
        "draft_id": draft_id, "revision": revision, "created": created,
        "duration_us": edit.duration_us, "duration": round(edit.duration_us / 1e6, 6),
        "width": edit.canvas.width, "height": edit.canvas.height, "frame_rate": edit.canvas.fps,
        "segment_duration": SEGMENT_S,
        "master_playlist": MASTER, "share_page": SHARE_PAGE,
        "renditions": [{k: r[k] for k in ("name", "width", "height", "bandwidth", "average_bandwidth", "codecs",
                                          "frame_rate", "playlist")} for r in renditions],
        "poster": {"path": POSTER, "width": poster.width, "height": poster.height, "content_type": "image/jpeg",
                   "cover_time_us": _cover_time(edit)},
        "blurhash": blurhash,
        "captions": captions,
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256, "content_type": f.content_type,
                   "cache_control": f.cache_control} for f in files],
    }
    atomic_write_bytes(folder / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
    files.append(_describe(folder, MANIFEST))
    for f in files:
        fsync_file(folder / f.path)
    for d in {(folder / f.path).parent for f in files}:
        fsync_dir(d)
    stage("building", 1.0)
    return Bundle(folder=folder, manifest=manifest, files=files)


def _cover_time(edit: Edit) -> int | None:
    frame = cover_frame(edit)
    return None if frame is None else frame.timeline_us


def _bundle_paths(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _describe(folder: Path, rel: str) -> BundleFile:
    p = folder / rel
    return BundleFile(path=rel, size=p.stat().st_size, sha256=sha256_file(p), content_type=content_type(rel),
                      cache_control=cache_control(rel))


def _absolute_playlists(folder: Path, renditions: list[dict], urls: Callable[[str], str]) -> None:
    """Pre-signed links: every URI in the playlists becomes the absolute, signed URL of that file."""
    for r in renditions:
        playlist = folder / r["playlist"]
        rung = r["playlist"].rsplit("/", 1)[0]
        out = []
        for line in playlist.read_text().splitlines():
            if line.startswith("#EXT-X-MAP:"):
                line = re.sub(r'URI="([^"]+)"', lambda m: f'URI="{urls(f"{rung}/{m.group(1)}")}"', line)
            elif line and not line.startswith("#"):
                line = urls(f"{rung}/{line.strip()}")
            out.append(line)
        playlist.write_text("\n".join(out) + "\n")
    write_master(folder / MASTER, renditions, uri=urls)


def _write_captions(edit: Edit, folder: Path) -> list[dict]:
    """WebVTT per caption track when the edit has captions (``edit.captions``: cues with start_us, end_us,
    text; added by the speech work). Returns the manifest's entries."""
    cues = getattr(edit, "captions", None)
    if not cues:
        return []
    items = cues if isinstance(cues, list) else getattr(cues, "cues", [])
    lines = ["WEBVTT", ""]
    for c in items:
        start, end, text = getattr(c, "start_us", None), getattr(c, "end_us", None), getattr(c, "text", "")
        if start is None or end is None or not text:
            continue
        lines += [f"{_vtt_time(start)} --> {_vtt_time(end)}", str(text).replace("-->", "→"), ""]
    if len(lines) == 2:
        return []
    lang = getattr(cues, "language", None) or "und"
    (folder / "captions").mkdir(exist_ok=True)
    rel = f"captions/{lang}.vtt"
    (folder / rel).write_text("\n".join(lines))
    return [{"language": lang, "path": rel}]


def _vtt_time(us: int) -> str:
    ms = int(us) // 1000
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _write_share_page(folder: Path, *, title: str, caption: str, blurhash: str, link: Callable[[str], str],
                      aspect: str, duration_us: int) -> None:
    template = paths.resource("web", "share.html").read_text(encoding="utf-8")
    config = {"title": title, "caption": caption, "blurhash": blurhash, "master": link(MASTER),
              "poster": link(POSTER), "duration": duration_us / 1e6}
    config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    values = {"TITLE": html.escape(title or "Reel"), "CAPTION": html.escape(caption or ""),
              "POSTER_URL": html.escape(link(POSTER)), "HLS_URL": html.escape(link("hls.min.js")),
              "ASPECT": aspect, "BLUR_H": str(max(1, round(32 * _ratio(aspect)))), "CONFIG_JSON": config_json}
    page = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], template)   # one pass: text is never re-read
    (folder / SHARE_PAGE).write_text(page, encoding="utf-8")


def _ratio(aspect: str) -> float:
    w, h = (float(x) for x in aspect.split("/"))
    return h / w
