"""The new edit data (transitions, follow-subject keys, beat markers, animations) survives a JSON
round trip whatever it holds, and damaged data is refused with a sentence."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.editor.document import (ANIMATIONS_IN, ANIMATIONS_OUT, CURRENT_VERSION, TRANSITION_KINDS, Edit,
                                    EditError, migrate)
from studio.editor.safezones import PLATFORMS, covered_overlays, zones

ids = st.uuids().map(lambda u: u.hex)
extras = st.dictionaries(st.text(min_size=1, max_size=6).map(lambda k: "x_" + k), st.integers() | st.text(max_size=5),
                         max_size=2)


def with_extra(base):  # noqa: ANN001, ANN201
    return st.tuples(base, extras).map(lambda p: {**p[1], **p[0]})


def increasing(n_max: int = 6):  # noqa: ANN201
    return st.lists(st.integers(1, 2_000_000), min_size=0, max_size=n_max).map(
        lambda gaps: [sum(gaps[: i + 1]) for i in range(len(gaps))])


@st.composite
def clip(draw) -> dict:
    times = draw(increasing())
    keys = [draw(with_extra(st.fixed_dictionaries({"t_us": st.just(t), "cx": st.floats(0, 1), "cy": st.floats(0, 1)})))
            for t in times]
    out = {"id": draw(ids), "asset_id": draw(ids), "source_in_us": 0, "source_out_us": draw(st.integers(1, 10**8)),
           "reframe": draw(with_extra(st.fixed_dictionaries({"mode": st.sampled_from(["fill", "fit", "follow"]),
                                                              "keys": st.just(keys)})))}
    if draw(st.booleans()):
        out["transition"] = draw(with_extra(st.fixed_dictionaries({"kind": st.sampled_from(TRANSITION_KINDS),
                                                                   "duration_us": st.integers(1, 5_000_000)})))
    return out


@st.composite
def text(draw) -> dict:
    start = draw(st.integers(0, 10**7))
    times = draw(increasing())
    out = {"id": draw(ids), "text": draw(st.text(max_size=20)), "start_us": start,
           "end_us": start + draw(st.integers(1, 10**7)),
           "keys": [draw(with_extra(st.fixed_dictionaries({"t_us": st.just(t - 1), "x": st.floats(-1, 2),
                                                           "y": st.floats(-1, 2), "scale": st.floats(0.05, 10)})))
                    for t in times]}
    if draw(st.booleans()):
        out["animate"] = draw(with_extra(st.fixed_dictionaries({
            "enter": st.sampled_from(ANIMATIONS_IN), "exit": st.sampled_from(ANIMATIONS_OUT),
            "enter_us": st.integers(0, 10**7), "exit_us": st.integers(0, 10**7)})))
    return out


@st.composite
def music(draw) -> dict:
    return {"id": draw(ids), "asset_id": draw(ids), "beats_us": draw(increasing(20)),
            "onsets_us": draw(increasing(20)), "tempo_bpm": draw(st.none() | st.floats(20, 400))}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(clip(), max_size=4), st.lists(text(), max_size=3), st.lists(music(), max_size=2))
def test_new_edit_data_survives_a_json_round_trip(clips, texts, tracks):
    data = {"schema_version": CURRENT_VERSION, "clips": clips, "texts": texts, "music": tracks}
    edit = Edit.from_dict(json.loads(json.dumps(data)))
    again = Edit.from_dict(json.loads(edit.to_json()))
    assert again == edit
    out = again.to_dict()
    for got, want in zip(out["clips"], clips):
        assert got.get("transition") == want.get("transition") and got["reframe"].get("keys", []) == want["reframe"]["keys"]
        assert {k: v for k, v in got["reframe"].items() if k.startswith("x_")} == \
            {k: v for k, v in want["reframe"].items() if k.startswith("x_")}
    for got, want in zip(out["texts"], texts):
        assert got.get("animate") == want.get("animate") and got.get("keys", []) == want["keys"]
    for got, want in zip(out["music"], tracks):
        assert got.get("beats_us", []) == want["beats_us"] and got.get("tempo_bpm") == want["tempo_bpm"]
    # the reel never lasts longer than its clips end to end, nor less than its longest clip
    total = sum(again.clip_duration_us(c) for c in again.clips)
    assert again.duration_us <= total
    assert again.duration_us >= max((again.clip_duration_us(c) for c in again.clips), default=0)


BASE = {"schema_version": CURRENT_VERSION,
        "clips": [{"id": "a", "asset_id": "f", "source_in_us": 0, "source_out_us": 10**6},
                  {"id": "b", "asset_id": "f", "source_in_us": 0, "source_out_us": 10**6}],
        "texts": [{"id": "t", "text": "hi", "start_us": 0, "end_us": 10**6}],
        "stickers": [{"id": "s", "source": "builtin:star", "start_us": 0, "end_us": 10**6}],
        "music": [{"id": "m", "asset_id": "g"}]}


@pytest.mark.parametrize("path, value, sentence", [
    (("clips", 0, "transition"), {"kind": "spin"}, "unknown transition"),
    (("clips", 0, "transition"), {"kind": "dip", "duration_us": -5}, "between one frame and 5 seconds"),
    (("clips", 0, "transition"), "crossfade", "should be an object"),
    (("clips", 0, "reframe"), {"mode": "follow", "keys": [{"t_us": 5}, {"t_us": 5}]}, "out of order"),
    (("clips", 0, "reframe"), {"mode": "follow", "keys": [{"t_us": "soon"}]}, "whole number"),
    (("clips", 0, "reframe"), {"mode": "follow", "keys": {"t_us": 0}}, "should be a list"),
    (("clips", 0, "reframe"), {"mode": "orbit"}, "“fill”, “fit” or “follow”"),
    (("texts", 0, "animate"), {"enter": "explode"}, "unknown animation"),
    (("stickers", 0, "animate"), {"enter": "typewriter"}, "only a text can be typed in"),
    (("texts", 0, "keys"), [{"t_us": 0, "scale": 0}], "between 5 % and 1000 %"),
    (("texts", 0, "keys"), [{"t_us": 0, "x": 9}], "too far outside"),
    (("music", 0, "beats_us"), [3, 2], "out of order"),
    (("music", 0, "beats_us"), [1.5], "damaged"),
    (("music", 0, "onsets_us"), "often", "damaged"),
    (("music", 0, "tempo_bpm"), 9000, "is not a tempo"),
])
def test_damaged_visual_data_is_refused_with_a_sentence(path, value, sentence):
    doc = json.loads(json.dumps(BASE))
    target = doc
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    with pytest.raises(EditError, match=sentence):
        Edit.from_dict(doc)


def test_a_version_2_document_migrates_unchanged():
    v2 = {**json.loads(json.dumps(BASE)), "schema_version": 2}
    assert migrate(v2)["schema_version"] == CURRENT_VERSION
    out = Edit.from_dict(v2).to_dict()
    assert "transition" not in out["clips"][0] and "keys" not in out["clips"][0]["reframe"]
    assert "animate" not in out["texts"][0] and "beats_us" not in out["music"][0]


def test_safe_zones_flag_a_caption_under_the_buttons_but_not_in_the_middle():
    edit = Edit.from_dict(BASE)
    for platform in PLATFORMS:
        assert len(zones(platform)) == 3
        low = covered_overlays(edit, platform, {"t": (0.1, 0.85, 0.8, 0.06)})
        assert [w.item_id for w in low] == ["t"] and "“hi”" in low[0].message
        assert covered_overlays(edit, platform, {"t": (0.2, 0.45, 0.5, 0.06)}) == []
        right = covered_overlays(edit, platform, {"t": (0.8, 0.6, 0.19, 0.05)})
        assert right and right[0].zone == "buttons"
    assert covered_overlays(edit, "reels", {"cue1": (0.1, 0.9, 0.8, 0.05)})[0].kind == "caption"
    with pytest.raises(ValueError, match="Unknown platform"):
        zones("vine")
