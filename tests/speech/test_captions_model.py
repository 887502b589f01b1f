"""Captions as edit data: every caption edit survives a round trip (and the v2 → v4 migrations),
damaged caption data is refused with a sentence, lines split and merge as the creator means, and
SRT/WebVTT parse by their specs with cue times on the words."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.editor import captions as C
from studio.editor.document import CURRENT_VERSION, Edit, EditError, add_clip, migrate, new_edit
from studio.editor.jumpcuts import cuts_from_silences, remove_ranges
from studio.speech import SpeechError
from studio.speech.engines import BuiltinEngine, choose_engine, whisper_status
from studio.speech.subtitles import to_srt, to_vtt, write_subtitles

US = 1_000_000
WORDS = [("welcome", 100_000, 500_000), ("back", 520_000, 800_000), ("to", 800_000, 900_000),
         ("my", 900_000, 1_100_000), ("channel", 1_100_000, 1_600_000),
         ("first", 3_700_000, 4_000_000), ("we", 4_000_000, 4_200_000), ("mix", 4_250_000, 4_700_000)]


def reel(words=WORDS) -> Edit:
    e, _ = add_clip(new_edit(), "a" * 32, 6 * US)
    return C.set_transcript(e, words, engine="builtin")


def test_a_v2_document_migrates_to_v4_with_an_empty_captions_track_and_keeps_unknown_fields() -> None:
    v2 = {"schema_version": 2, "x_future": {"keep": 1},
          "clips": [{"id": "c", "asset_id": "a", "source_in_us": 0, "source_out_us": US, "x_tr": "whip"}]}
    out = Edit.from_dict(v2).to_dict()
    assert out["schema_version"] == CURRENT_VERSION == 4
    assert out["captions"]["segments"] == [] and out["captions"]["style"]["preset"] == "karaoke"
    assert out["captions"]["style"]["burn_in"] is True
    assert out["x_future"] == {"keep": 1} and out["clips"][0]["x_tr"] == "whip"
    assert v2["schema_version"] == 2, "migration must not modify the caller's dict"


def test_words_break_into_lines_at_pauses() -> None:
    e = reel()
    assert [s.text for s in e.captions.segments] == ["welcome back to my channel", "first we mix"]
    assert e.captions.engine == "builtin"


def test_fix_split_merge_and_style() -> None:
    e = reel()
    first = e.captions.segments[0].id
    e = C.fix_word(e, first, 4, "  kitchen ")
    assert e.captions.segments[0].text == "welcome back to my kitchen"
    assert (e.captions.segments[0].words[4].start_us, e.captions.segments[0].words[4].end_us) == (1_100_000, 1_600_000)
    e = C.split_segment(e, first, 2)
    assert [s.text for s in e.captions.segments] == ["welcome back", "to my kitchen", "first we mix"]
    e = C.merge_segments(e, first)
    assert [s.text for s in e.captions.segments] == ["welcome back to my kitchen", "first we mix"]
    e = C.fix_word(e, e.captions.segments[1].id, 1, "")          # an empty fix removes the word
    assert e.captions.segments[1].text == "first mix"
    e = C.set_caption_style(e, preset="box", position="upper", size=0.06)
    assert (e.captions.style.preset, e.captions.style.position) == ("box", "upper")
    with pytest.raises(EditError, match="inside the line"):
        C.split_segment(e, first, 0)
    with pytest.raises(EditError, match="last caption line"):
        C.merge_segments(e, e.captions.segments[-1].id)
    with pytest.raises(EditError, match="Unknown caption style"):
        C.set_caption_style(e, preset="comic")


edits_of_captions = st.lists(st.one_of(
    st.tuples(st.just("fix"), st.integers(0, 5), st.integers(0, 6), st.text(max_size=10)),
    st.tuples(st.just("split"), st.integers(0, 5), st.integers(1, 5)),
    st.tuples(st.just("merge"), st.integers(0, 5)),
    st.tuples(st.just("style"), st.sampled_from(sorted(C.PRESETS)), st.sampled_from(C.POSITIONS),
              st.floats(0.02, 0.12), st.booleans()),
    st.tuples(st.just("cut"), st.integers(0, 5_900_000), st.integers(1, 2_000_000)),
), max_size=8)


def _apply(e: Edit, op: tuple) -> Edit:
    segs = e.captions.segments
    kind = op[0]
    if kind == "style":
        return C.set_caption_style(e, preset=op[1], position=op[2], size=op[3], burn_in=op[4])
    if kind == "cut":
        return remove_ranges(e, [(op[1], min(op[1] + op[2], e.duration_us - 40_000))]) \
            if op[1] + 40_000 < e.duration_us - 40_000 else e
    if not segs:
        return e
    seg = segs[op[1] % len(segs)]
    if kind == "fix":
        return C.fix_word(e, seg.id, op[2] % len(seg.words), op[3])
    if kind == "split":
        return C.split_segment(e, seg.id, op[2] % len(seg.words)) if op[2] % len(seg.words) else e
    return C.merge_segments(e, seg.id) if seg is not segs[-1] else e


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits_of_captions, st.dictionaries(st.sampled_from(["x_a", "x_b"]), st.integers(), max_size=2))
def test_any_caption_edit_round_trips(ops, extra) -> None:
    e = reel()
    for op in ops:
        try:
            e = _apply(e, op)
        except EditError as err:        # a refusal is a sentence, never a crash
            assert str(err) and "Traceback" not in str(err)
    d = e.to_dict()
    d["captions"].update(extra)
    for seg in d["captions"]["segments"]:
        seg["x_note"] = "kept"
    loaded = Edit.from_dict(json.loads(json.dumps(d)))
    assert loaded.to_dict() == d
    assert migrate(d) == d
    # a v2 document carrying these captions as an unknown field comes forward unchanged too
    v2 = copy.deepcopy(d)
    v2["schema_version"] = 2
    assert Edit.from_dict(v2).to_dict() == d


@pytest.mark.parametrize("damage, sentence", [
    (lambda c: c["segments"][0]["words"][0].update(start_us=-5), "ends before it starts"),
    (lambda c: c["segments"][0]["words"][0].update(end_us=0, start_us=10), "ends before it starts"),
    (lambda c: c["segments"][0]["words"][1].update(start_us=0), "overlap or are out of order"),
    (lambda c: c["segments"][0]["words"][0].update(text="   "), "empty or overlong word"),
    (lambda c: c["segments"][0]["words"][0].update(text=7), "should be text"),
    (lambda c: c["segments"][0]["words"][0].pop("end_us"), "incomplete"),
    (lambda c: c["segments"][0].update(words=[]), "has no words"),
    (lambda c: c["segments"][0].update(words={"a": 1}), "should be a list"),
    (lambda c: c["segments"][1].update(id=c["segments"][0]["id"]), "share the same id"),
    (lambda c: c.update(segments="lots"), "should be a list"),
    (lambda c: c["style"].update(preset="neon"), "Unknown caption style"),
    (lambda c: c["style"].update(size=0.9), "caption size"),
    (lambda c: c["style"].update(position="left"), "lower, middle or upper"),
    (lambda c: c["style"].update(color="red"), "#RRGGBB"),
    (lambda c: c["style"].update(burn_in="yes"), "true or false"),
    (lambda c: c.update(style=None), "empty"),
])
def test_damaged_caption_data_is_refused_with_a_sentence(damage, sentence) -> None:
    d = reel().to_dict()
    damage(d["captions"])
    with pytest.raises(EditError, match=sentence) as err:
        Edit.from_dict(d)
    assert str(err.value).endswith(".") or str(err.value).endswith(").")


def test_jump_cuts_never_take_part_of_a_word_and_captions_move_with_them() -> None:
    e = reel()
    # a silence the detector saw from 1.5 s (inside "channel") to 3.9 s (inside "first")
    cuts = cuts_from_silences(e, [(1_500_000, 3_900_000)], padding_us=100_000)
    assert cuts and all(b <= 3_600_000 and a >= 1_700_000 for a, b in cuts)
    after = remove_ranges(e, cuts)
    removed = sum(b - a for a, b in cuts)
    assert after.duration_us == e.duration_us - removed
    before_words = [(w.text, w.start_us, w.end_us) for w in e.captions.words]
    after_words = [(w.text, w.start_us, w.end_us) for w in after.captions.words]
    assert [w[0] for w in after_words] == [w[0] for w in before_words]
    for (t, a, b), (_, a2, b2) in zip(before_words, after_words):
        assert b2 - a2 == b - a, t                       # no word got shorter
        assert a2 == (a if a < cuts[0][0] else a - removed)
    assert len(after.clips) == 2


def _parse_srt(text: str) -> list[tuple[int, int, str]]:
    """SubRip by its de-facto spec: index line, 'HH:MM:SS,mmm --> HH:MM:SS,mmm', text lines, blank line."""
    cues, stamp = [], r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        assert lines[0].isdigit(), block
        m = re.fullmatch(stamp + " --> " + stamp, lines[1])
        assert m, lines[1]
        g = [int(x) for x in m.groups()]
        cues.append(((g[0] * 3600 + g[1] * 60 + g[2]) * US + g[3] * 1000,
                     (g[4] * 3600 + g[5] * 60 + g[6]) * US + g[7] * 1000, " ".join(lines[2:])))
    return cues


def _parse_vtt(text: str) -> list[tuple[int, int, str]]:
    """WebVTT (W3C): the 'WEBVTT' signature, then cues of a timing line and payload, blank-line separated."""
    assert text.startswith("WEBVTT") and text.split("\n", 1)[0].strip() == "WEBVTT"
    cues, stamp = [], r"(?:(\d\d+):)?(\d\d):(\d\d)\.(\d\d\d)"
    for block in text.split("\n\n")[1:]:
        lines = [ln for ln in block.split("\n") if ln]
        if not lines:
            continue
        timing = next(i for i, ln in enumerate(lines) if "-->" in ln)
        m = re.match(stamp + r"[ \t]+-->[ \t]+" + stamp, lines[timing])
        assert m, lines[timing]
        g = [int(x or 0) for x in m.groups()]
        payload = " ".join(lines[timing + 1:]).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        cues.append(((g[0] * 3600 + g[1] * 60 + g[2]) * US + g[3] * 1000,
                     (g[4] * 3600 + g[5] * 60 + g[6]) * US + g[7] * 1000, payload))
    return cues


def test_srt_and_vtt_parse_and_their_cues_are_the_words(tmp_path) -> None:
    e = reel([*WORDS, ("a<b & c>", 5_000_000, 5_500_000)])
    for text, parse in ((to_srt(e.captions), _parse_srt), (to_vtt(e.captions), _parse_vtt)):
        cues = parse(text)
        assert [c[2] for c in cues] == [s.text for s in e.captions.segments]
        for (a, b, _), seg in zip(cues, e.captions.segments):
            assert abs(a - seg.start_us) < 1000
            assert seg.end_us - 1000 < b <= seg.end_us + C.HOLD_US
        assert all(c1[1] <= c2[0] for c1, c2 in zip(cues, cues[1:])), "cues never overlap"
    assert "&lt;b &amp; c&gt;" in to_vtt(e.captions)
    write_subtitles(e.captions, tmp_path / "reel.vtt")
    assert _parse_vtt((tmp_path / "reel.vtt").read_text()) == _parse_vtt(to_vtt(e.captions))
    with pytest.raises(SpeechError, match=r"\.srt or \.vtt"):
        write_subtitles(e.captions, tmp_path / "reel.txt")
    with pytest.raises(SpeechError, match="no captions yet"):
        write_subtitles(C.clear_captions(e).captions, tmp_path / "x.srt")


def test_whisper_is_chosen_only_when_its_model_folder_is_usable(tmp_path, monkeypatch) -> None:
    from studio.paths import DataLayout

    monkeypatch.delenv("STUDIO_WHISPER_MODEL", raising=False)
    layout = DataLayout(data=tmp_path, cache=tmp_path / "cache", config=tmp_path / "config")
    assert isinstance(choose_engine("auto", layout), BuiltinEngine)
    with pytest.raises(SpeechError, match="needs a model folder") as err:
        choose_engine("whisper", layout)
    assert str(tmp_path / "models" / "whisper") in str(err.value)
    folder = tmp_path / "models" / "whisper"
    folder.mkdir(parents=True)
    assert "no model.bin" in whisper_status(layout)[1]
    (folder / "model.bin").write_bytes(b"x")
    (folder / "config.json").write_text("{}")
    ok, why = whisper_status(layout)
    # faster-whisper is not installed on this machine: said plainly, and auto falls back
    assert not ok and "faster-whisper" in why
    assert isinstance(choose_engine("auto", layout), BuiltinEngine)
    with pytest.raises(SpeechError, match="faster-whisper"):
        choose_engine("whisper", layout)
    with pytest.raises(SpeechError, match="Unknown speech engine"):
        choose_engine("vosk", layout)
