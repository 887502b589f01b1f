"""Follow subject: a 16:9 shot of a face walking across the stage goes into a 9:16 reel, and the
face stays in the middle of the picture the whole way, without the frame jumping."""

from __future__ import annotations

import json

import numpy as np
import pytest
from visual_helpers import decode_frames, walking_face_stage

from studio.editor.document import Canvas, Edit, EditError
from studio.editor.export import export_draft
from studio.visual.faces import FaceDetector, anchors, decode
from studio.visual.reframe_path import camera_path, centre_at


def test_a_walking_face_stays_in_the_middle_of_the_vertical_export(cli, studio, tmp_path, qapp):
    truth = walking_face_stage(tmp_path / "stage.mp4")
    draft = studio.drafts.import_files([tmp_path / "stage.mp4"])
    edit = Edit.from_dict(draft.edit)
    edit.canvas = Canvas(preset="custom", width=360, height=640, fps=30)   # 9:16, quick to export
    studio.drafts.update_edit(draft.id, edit.to_dict())

    r = cli("edit", draft.id, "reframe", "--follow-subject", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["clips"][0]["subject"] == "face" and report["clips"][0]["keys"] >= 2
    edit = Edit.from_dict(studio.drafts.get(draft.id).edit)
    assert edit.clips[0].reframe.mode == "follow"

    frames = decode_frames(export_draft(studio, draft.id, tmp_path / "reel.mp4"), (360, 640))
    assert len(frames) == 180
    detector = FaceDetector()
    xs = []
    for n in range(0, len(frames), 6):
        faces = detector.detect(frames[n])
        xs.append(faces[0].cx if faces else None)
    inside = [x is not None and 0.2 <= x <= 0.8 for x in xs]
    assert sum(inside) >= 0.9 * len(xs), xs
    seen = [x for x in xs if x is not None]
    assert max(np.abs(np.diff(seen))) <= 0.15, xs
    # without following, the centred crop loses the face for most of the walk
    still = [abs((t - 0.5) * 640 / 202.5) <= 0.3 for t in truth[::6]]
    assert sum(still) < 0.6 * len(still)


def test_the_model_decodes_the_real_photo():
    from visual_helpers import astronaut

    faces = FaceDetector().detect(astronaut())
    assert len(faces) == 1
    f = faces[0]
    assert 0.38 < f.cx < 0.50 and 0.18 < f.cy < 0.32 and f.score > 0.8     # her face, upper left of centre
    assert anchors().shape == (896, 2)
    # nothing in a flat picture, and NMS merges overlapping boxes into one
    assert FaceDetector().detect(np.full((256, 256, 3), 90, np.uint8)) == []
    reg = np.zeros((896, 16), np.float32)
    reg[:, 2:4] = 30
    scores = np.full((896, 1), -10, np.float32)
    scores[100:103] = 5
    assert len(decode(reg, scores)) == 1


def test_the_camera_holds_for_a_still_subject_and_never_exceeds_its_limits():
    dt = 1 / 6
    jitter = 0.5 + 0.01 * np.sin(np.arange(60))           # a subject shifting on the spot
    assert np.ptp(camera_path(jitter, dt, lo=0.1, hi=0.9)) == 0
    step = np.r_[np.full(12, 0.2), np.full(48, 0.8)]      # a cut-like jump inside one shot
    path = camera_path(step, dt, lo=0.1, hi=0.9, max_speed=0.8, max_accel=2.5)
    speed = np.diff(path) / dt
    assert np.abs(speed).max() <= 0.8 + 1e-6
    assert np.abs(np.diff(speed)).max() / dt <= 2.5 * 1.05 + 1e-6
    assert abs(path[-1] - 0.8) < 0.01                     # it gets there, and stops there


def test_reframe_keys_are_checked_and_interpolated():
    base = {"canvas": {"preset": "9:16", "width": 1080, "height": 1920, "fps": 30},
            "clips": [{"id": "c", "asset_id": "a", "source_in_us": 0, "source_out_us": 10**6,
                       "reframe": {"mode": "follow", "keys": [{"t_us": 0, "cx": 0.2}, {"t_us": 10**6, "cx": 0.6}]}}]}
    clip = Edit.from_dict(base).clips[0]
    assert centre_at(clip, 500_000) == pytest.approx((0.4, 0.5))
    assert centre_at(clip, 2 * 10**6) == pytest.approx((0.6, 0.5))           # held after the last key
    bad = json.loads(json.dumps(base))
    bad["clips"][0]["reframe"]["keys"][1]["t_us"] = 0
    with pytest.raises(EditError, match="out of order"):
        Edit.from_dict(bad)
    bad["clips"][0]["reframe"]["keys"] = [{"t_us": 0, "cx": 1.5}]
    with pytest.raises(EditError, match="outside the picture"):
        Edit.from_dict(bad)


def test_reframe_cli_refuses_with_a_sentence(cli, studio, shared_media):
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    r = cli("edit", draft.id, "reframe", "--follow-subject", "--clip", "3")
    assert r.returncode == 1 and "There is no clip 3" in r.stderr and "Traceback" not in r.stderr
