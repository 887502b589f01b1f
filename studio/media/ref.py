"""MediaRef: the one description of a media file that rendering needs.

The render graph, the preview compositor, playback, thumbnails and the exporter all read a file
through a MediaRef: where it is (an absolute path) and what it is (kind, display size after
rotation, frame rate, length, whether it has sound). It is built in two places only, from what
already describes the file: ``MediaRef.of(asset, path)`` from a library asset (DraftStore.media_refs
does this for a draft) and ``MediaRef.probed(path)`` for a file outside the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.media.probe import is_image, probe


@dataclass(frozen=True)
class MediaRef:
    id: str
    path: Path            # absolute
    kind: str             # "video" | "audio" | "image"
    rotation: int         # degrees clockwise to upright (ffmpeg and the decoder apply it)
    width: int            # display size (after rotation); 0 for sound
    height: int
    fps: float            # 0.0 when unknown or not a picture
    duration_us: int      # 0 when unknown
    has_audio: bool

    @property
    def display_size(self) -> tuple[int, int]:
        return self.width, self.height

    @classmethod
    def of(cls, asset, path: Path) -> "MediaRef":  # noqa: ANN001 - studio.drafts.types.MediaAsset
        """From a library asset (which stores the display size) and its absolute path."""
        return cls(id=asset.id, path=Path(path), kind=asset.kind, rotation=int(asset.rotation or 0),
                   width=int(asset.width or 0), height=int(asset.height or 0), fps=float(asset.fps or 0),
                   duration_us=int(asset.duration_us or 0), has_audio=bool(asset.has_audio))

    @classmethod
    def probed(cls, path: Path, id: str = "") -> "MediaRef":  # noqa: A002 - the field's name
        """From the file itself (ffmpeg reads its header). Raises MediaError."""
        info = probe(path)
        v = info.video
        w, h = v.display_size if v else (0, 0)
        kind = "image" if v is not None and is_image(info) else info.kind
        return cls(id=id, path=Path(path).resolve(), kind=kind, rotation=v.rotation if v else 0,
                   width=w, height=h, fps=float(v.fps or 0) if v else 0.0, duration_us=int(info.duration_us or 0),
                   has_audio=info.has_audio)
