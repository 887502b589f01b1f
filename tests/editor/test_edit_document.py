"""The edit document: round trips keep everything (unknown fields too), old versions migrate,
operations do what the creator means, and bad documents are refused with a clear sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.editor import document as doc
from studio.editor.document import CURRENT_VERSION, Edit, EditError
from studio.editor.looks import LOOKS

FIXTURES = Path(__file__).parent / "fixtures"

# --- strategies for valid documents, with unknown keys sprinkled at every level ----------------

ids = st.uuids().map(lambda u: u.hex)
times = st.integers(min_value=0, max_value=600_000_000)
unit = st.floats(min_value=-1, max_value=1, allow_nan=False)
pos = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)
json_leaf = st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.text(max_size=8) | \
    st.floats(allow_nan=False, allow_infinity=False)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3) |
                          st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
extras = st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "x_" + k), json_value, max_size=2)
colors = st.from_regex(r"\A#[0-9A-F]{6}([0-9A-F]{2})?\Z")


def with_extra(base: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(base, extras).map(lambda p: {**p[1], **p[0]})


@st.composite
def clips(draw) -> dict:
    start = draw(st.integers(0, 10_000_000))
    crop = draw(st.none() | with_extra(st.fixed_dictionaries(
        {"x": st.floats(0, 0.4), "y": st.floats(0, 0.4), "w": st.floats(0.1, 0.6), "h": st.floats(0.1, 0.6)})))
    return draw(with_extra(st.fixed_dictionaries({
        "id": ids, "asset_id": ids, "source_in_us": st.just(start),
        "source_out_us": st.integers(start + 1, start + 60_000_000),
        "speed": st.floats(0.25, 4.0), "volume": st.floats(0, 4), "muted": st.booleans(),
        "rotation": st.sampled_from([0, 90, 180, 270]),
        "reframe": with_extra(st.fixed_dictionaries({"mode": st.sampled_from(["fill", "fit"]),
                                                     "scale": st.floats(0.1, 10), "x": unit, "y": unit,
                                                     "crop": st.just(crop)})),
        "look": with_extra(st.fixed_dictionaries({"name": st.sampled_from(sorted(LOOKS)), "brightness": unit,
                                                  "contrast": unit, "saturation": unit, "warmth": unit})),
    })))


@st.composite
def ranged(draw, fields: dict) -> dict:
    start = draw(times)
    return draw(with_extra(st.fixed_dictionaries({"id": ids, "start_us": st.just(start),
                                                  "end_us": st.integers(start + 1, start + 60_000_000), **fields})))


texts = ranged({"text": st.text(max_size=30), "font": st.just("Inter"), "size": st.floats(0.005, 0.5),
                "color": colors, "background": st.none() | colors,
                "align": st.sampled_from(["left", "center", "right"]), "bold": st.booleans(),
                "x": pos, "y": pos, "rotation": st.floats(-360, 360)})
stickers = ranged({"source": st.sampled_from(["builtin:heart", "builtin:star"]) | ids.map(lambda i: "asset:" + i),
                   "x": pos, "y": pos, "scale": st.floats(0.01, 4), "rotation": st.floats(-180, 180),
                   "opacity": st.floats(0, 1)})
music = with_extra(st.fixed_dictionaries({
    "id": ids, "asset_id": ids, "start_us": times, "offset_us": times,
    "duration_us": st.none() | st.integers(1, 10**9), "volume": st.floats(0, 4),
    "fade_in_us": times, "fade_out_us": times, "role": st.sampled_from(["music", "voice"])}))


@st.composite
def captions(draw) -> dict:
    """A v4 captions track: lines of words in time order, one style."""
    t, segments = 0, []
    for _ in range(draw(st.integers(0, 3))):
        words = []
        for _ in range(draw(st.integers(1, 4))):
            t += draw(st.integers(0, 2_000_000))
            end = t + draw(st.integers(1, 1_000_000))
            words.append(draw(with_extra(st.fixed_dictionaries({
                "text": st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=["Cs", "Zs", "Cc"]),
                                min_size=1, max_size=12), "start_us": st.just(t), "end_us": st.just(end)}))))
            t = end
        segments.append(draw(with_extra(st.fixed_dictionaries({"id": ids, "words": st.just(words)}))))
    style = with_extra(st.fixed_dictionaries({
        "preset": st.sampled_from(["karaoke", "pop", "box", "outline"]), "size": st.floats(0.02, 0.12),
        "position": st.sampled_from(["lower", "middle", "upper"]), "color": colors, "highlight": colors,
        "burn_in": st.booleans()}))
    return draw(with_extra(st.fixed_dictionaries({"segments": st.just(segments), "style": style,
                                                  "language": st.sampled_from(["en", "de"]),
                                                  "engine": st.sampled_from(["", "builtin", "whisper"])})))


@st.composite
def edits(draw) -> dict:
    preset = draw(st.sampled_from(sorted(doc.PRESETS)))
    w, h = doc.PRESETS[preset]
    return draw(with_extra(st.fixed_dictionaries({
        "schema_version": st.just(CURRENT_VERSION),
        "canvas": with_extra(st.fixed_dictionaries({"preset": st.just(preset), "width": st.just(w),
                                                    "height": st.just(h), "fps": st.sampled_from([24, 25, 30, 60])})),
        "clips": st.lists(clips(), max_size=4),
        "texts": st.lists(texts, max_size=3),
        "stickers": st.lists(stickers, max_size=2),
        "music": st.lists(music, max_size=2),
        "audio": with_extra(st.fixed_dictionaries({"original_volume": st.floats(0, 4),
                                                   "normalize_loudness": st.booleans(),
                                                   "loudness_target": st.floats(-40, -5)})),
        "caption": st.text(max_size=50),
        "cover": with_extra(st.fixed_dictionaries({"time_us": times, "asset_id": st.none() | ids})),
        "captions": captions(),
    })))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_any_valid_edit_survives_a_json_round_trip_with_unknown_fields(data: dict) -> None:
    # Unique ids are part of validity; hypothesis's uuids are unique in practice.
    text = json.dumps(data, ensure_ascii=False)
    loaded = Edit.from_dict(json.loads(text))
    assert loaded.to_dict() == data
    again = Edit.from_dict(loaded.to_json())
    assert again == loaded


def test_v1_initial_document_from_the_draft_store_migrates() -> None:
    raw = json.loads((FIXTURES / "edit_v1_initial.json").read_text())
    edit = Edit.from_dict(raw)
    assert edit.schema_version == CURRENT_VERSION
    assert edit.audio.original_volume == 1.0 and edit.audio.normalize_loudness is False
    (clip,) = edit.clips
    assert (clip.source_in_us, clip.source_out_us, clip.speed) == (0, 14_000_000, 1.0)
    assert edit.duration_us == 14_000_000
    assert raw["schema_version"] == 1, "migration must not modify the caller's dict"


def test_v1_full_document_migrates_and_keeps_every_unknown_field() -> None:
    raw = json.loads((FIXTURES / "edit_v1_full.json").read_text(encoding="utf-8"))
    out = Edit.from_dict(raw).to_dict()
    assert out["schema_version"] == CURRENT_VERSION and "audio" in out
    assert out["app_notes"] == {"editor": "future build"}
    assert out["canvas"]["background_blur"] is True
    assert out["clips"][0]["transition_in"] == {"kind": "fade", "duration_us": 250000}
    assert out["clips"][0]["look"]["lut"] == "custom.cube"
    assert out["clips"][0]["reframe"]["crop"] == {"x": 0.1, "y": 0.0, "w": 0.8, "h": 1.0}
    assert out["texts"][0]["shadow"] == {"blur": 4} and out["texts"][0]["text"] == "Grüße ✨ 你好"
    assert out["stickers"][0]["animation"] == "bounce"
    assert out["music"][0]["beat_sync"] is True
    # Everything the v1 file said is still said, unchanged.
    assert {k: out["canvas"][k] for k in raw["canvas"]} == raw["canvas"]
    assert out["caption"] == raw["caption"] and out["cover"]["time_us"] == 400000
    for clip_in, clip_out in zip(raw["clips"], out["clips"]):
        assert {k: clip_out[k] for k in clip_in if k not in ("reframe", "look")} == \
            {k: v for k, v in clip_in.items() if k not in ("reframe", "look")}


def test_newer_and_damaged_documents_are_refused_with_a_sentence() -> None:
    with pytest.raises(EditError, match="newer Reel Studio"):
        Edit.from_dict({"schema_version": CURRENT_VERSION + 1})
    with pytest.raises(EditError, match="not valid JSON"):
        Edit.from_dict("{nope")
    with pytest.raises(EditError, match="whole number"):
        Edit.from_dict({"schema_version": 2, "clips": [{"id": "a", "asset_id": "b", "source_in_us": "0",
                                                        "source_out_us": 5}]})
    with pytest.raises(EditError, match="speed"):
        Edit.from_dict({"clips": [{"id": "a", "asset_id": "b", "source_in_us": 0, "source_out_us": 5,
                                   "speed": 8.0}]})
    with pytest.raises(EditError, match="same id"):
        Edit.from_dict({"clips": [{"id": "a", "asset_id": "b", "source_in_us": 0, "source_out_us": 5}] * 2})
    with pytest.raises(EditError, match="not part of this draft"):
        doc.validate(Edit.from_dict({"music": [{"id": "m", "asset_id": "zzz"}]}), asset_ids={"a"})


def _three_clips() -> tuple[Edit, list[str]]:
    e = doc.new_edit()
    out = []
    for asset, length in (("a", 4_000_000), ("b", 2_000_000), ("c", 1_000_000)):
        e, cid = doc.add_clip(e, asset, length)
        out.append(cid)
    return e, out


def test_trim_split_reorder_delete_duplicate() -> None:
    e, (a, b, c) = _three_clips()
    assert e.duration_us == 7_000_000
    e = doc.trim_clip(e, a, in_us=1_000_000, out_us=3_000_000)
    assert e.duration_us == 5_000_000
    e = doc.update_clip(e, a, speed=2.0)
    assert e.clip_duration_us(e.clip(a)) == 1_000_000
    e, right = doc.split_clip(e, b, 1_500_000)          # timeline 1.5 s = 0.5 s into clip b
    assert e.clip(b).source_out_us == 500_000 and e.clip(right).source_in_us == 500_000
    assert [x.id for x in e.clips] == [a, b, right, c]
    e = doc.move_clip(e, c, 0)
    assert [x.id for x in e.clips] == [c, a, b, right]
    e, dup = doc.duplicate_clip(e, a)
    assert [x.id for x in e.clips] == [c, a, dup, b, right] and e.clip(dup).speed == 2.0
    e = doc.delete_clip(e, b)
    assert [x.id for x in e.clips] == [c, a, dup, right]
    assert e.clip_at(0)[0].id == c
    with pytest.raises(EditError, match="shorter than one frame"):
        doc.trim_clip(e, a, in_us=3_000_000)
    with pytest.raises(EditError, match="inside the clip"):
        doc.split_clip(e, a, 0)


def test_operations_never_modify_the_edit_they_were_given() -> None:
    e, (a, _, _) = _three_clips()
    before = e.to_dict()
    doc.trim_clip(e, a, in_us=100)
    doc.add_text(e, "hi")
    doc.update_clip(e, a, look={"name": "mono"})
    assert e.to_dict() == before


def test_overlays_and_music_operations() -> None:
    e, _ = _three_clips()
    e, t = doc.add_text(e, "Hello", 0, 2_000_000, color="#FF0000")
    e = doc.update_overlay(e, t, x=0.3, y=0.7, size=0.1, background="#00000099")
    text = doc.overlay(e, t)
    assert (text.x, text.y, text.size, text.color, text.background) == (0.3, 0.7, 0.1, "#FF0000", "#00000099")
    e, s = doc.add_sticker(e, "builtin:star", 500_000, 1_000_000, scale=0.2)
    e = doc.update_overlay(e, s, rotation=45, opacity=0.5)
    assert doc.overlay(e, s).rotation == 45.0
    e = doc.remove_overlay(e, t)
    assert [x.id for x in e.texts] == []
    e, m = doc.add_music(e, "song", 1_000_000, fade_in_us=200_000)
    e = doc.update_music(e, m, start_us=2_000_000, offset_us=3_000_000, duration_us=4_000_000)
    track = e.music[0]
    assert (track.start_us, track.offset_us, track.duration_us, track.fade_in_us) == (2_000_000, 3_000_000,
                                                                                       4_000_000, 200_000)
    e = doc.set_canvas(e, "1:1")
    assert (e.canvas.width, e.canvas.height) == (1080, 1080)
    e = doc.update_audio(e, normalize_loudness=True, original_volume=0.3)
    assert e.audio.normalize_loudness and e.audio.original_volume == 0.3
    with pytest.raises(EditError, match="cannot be changed"):
        doc.update_overlay(e, s, id="other")
    with pytest.raises(EditError, match="end after it starts"):
        doc.update_overlay(e, s, end_us=0)
    with pytest.raises(EditError, match="colours"):
        doc.add_text(e, "x", color="red")


def test_one_frame_clip_lasts_one_canvas_frame() -> None:
    e, c = doc.add_clip(doc.new_edit(), "a", 1)
    assert e.duration_us == round(1_000_000 / 30)


@st.composite
def damaged(draw) -> dict:
    """A valid edit with one value somewhere replaced by arbitrary JSON."""
    data = draw(edits())
    parent, key = data, draw(st.sampled_from(sorted(data)))
    for _ in range(draw(st.integers(0, 3))):
        child = parent[key]
        if not isinstance(child, (dict, list)) or not child:
            break
        parent = child
        key = draw(st.sampled_from(sorted(child) if isinstance(child, dict) else range(len(child))))
    parent[key] = draw(json_value)
    return data


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_a_damaged_edit_is_loaded_or_refused_with_edit_error_never_a_crash(data: dict) -> None:
    try:
        edit = Edit.from_dict(json.loads(json.dumps(data)))
    except EditError as e:
        assert str(e)
    else:
        assert Edit.from_dict(edit.to_dict()) == edit
