"""`studio edit ID captions|cut-silences` as a creator types them, on a talking head with 2 s pauses."""

from __future__ import annotations

import json

from speech_helpers import wer
from test_captions_model import _parse_srt, _parse_vtt

from studio.editor.document import Edit
from studio.media import probe

FRAME_US = 33_334


def _json(r):  # noqa: ANN001, ANN202
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_captions_subtitles_and_cut_silences_headless(cli, talking_head, tmp_path) -> None:  # noqa: ANN001
    draft_id = _json(cli("drafts", "import", str(talking_head.path), "--json"))["id"]
    caps = _json(cli("edit", draft_id[:8], "captions", "--engine", "builtin", "--json", timeout=300))
    assert caps["revision"] == 2 and caps["engine"] == "builtin"
    heard = [w["text"] for w in caps["words"]]
    assert wer(talking_head.words, heard) <= 0.35, heard
    assert all(w["end_us"] > w["start_us"] >= 0 for w in caps["words"])
    stored = Edit.from_dict(json.loads(cli("drafts", "export-edit", draft_id).stdout))
    assert [w.text for w in stored.captions.words] == heard, "the captions are stored in the edit"

    srt, vtt = tmp_path / "reel.srt", tmp_path / "reel.vtt"
    r = cli("edit", draft_id, "captions", "--srt", str(srt))
    assert r.returncode == 0 and "wrote" in r.stdout, r.stderr
    assert _json(cli("edit", draft_id, "captions", "--vtt", str(vtt), "--json"))["revision"] == 2, \
        "writing subtitles of stored captions makes no new revision"
    for cues in (_parse_srt(srt.read_text()), _parse_vtt(vtt.read_text())):
        assert [c[2] for c in cues] == [s.text for s in stored.captions.segments]
        assert [c[0] // 1000 for c in cues] == [s.start_us // 1000 for s in stored.captions.segments]

    before = stored.duration_us
    cut = _json(cli("edit", draft_id, "cut-silences", "--min-silence", "1", "--padding", "0.15", "--json"))
    silence = sum(b - a for a, b in talking_head.silences)
    assert cut["applied"] and cut["revision"] == 3 and len(cut["cuts"]) == len(talking_head.silences)
    assert cut["duration_before_us"] == before
    assert before - cut["duration_after_us"] == cut["removed_us"] > 0.75 * silence
    after = Edit.from_dict(json.loads(cli("drafts", "export-edit", draft_id).stdout))
    assert after.duration_us == cut["duration_after_us"]
    # the captions moved with the cuts: same words, none shortened
    assert [w.text for w in after.captions.words] == heard
    assert [w.end_us - w.start_us for w in after.captions.words] == \
        [w.end_us - w.start_us for w in stored.captions.words]

    out = tmp_path / "cut.mp4"
    r = cli("render", draft_id, "-o", str(out), timeout=300)
    assert r.returncode == 0, r.stderr
    assert abs(probe.probe(out).duration_us - after.duration_us) <= FRAME_US

    # no word was lost: transcribing the cut reel hears the same words
    again = _json(cli("edit", draft_id, "captions", "--json", timeout=300))
    assert wer(heard, [w["text"] for w in again["words"]]) <= 0.1
    for w_old, w_new in zip(after.captions.words, again["words"]):
        if w_old.text == w_new["text"]:
            assert abs(w_old.start_us - w_new["start_us"]) < 200_000

    # nothing left to cut: said so, no new revision
    again_cut = _json(cli("edit", draft_id, "cut-silences", "--min-silence", "1", "--json"))
    assert not again_cut["applied"] and again_cut["cuts"] == [] and again_cut["revision"] == again["revision"]


def test_bad_arguments_are_sentences(cli, talking_head) -> None:  # noqa: ANN001
    r = cli("edit", "abcdef123456", "captions")
    assert r.returncode == 1 and "no draft" in r.stderr.lower()
    draft_id = _json(cli("drafts", "import", str(talking_head.path), "--json"))["id"]
    r = cli("edit", draft_id, "cut-silences", "--min-silence", "soon")
    assert r.returncode == 2 and "not a number of seconds" in r.stderr
    r = cli("edit", draft_id, "cut-silences", "--min-silence", "0.01")
    assert r.returncode == 2 and "between 0.1 and 60 seconds" in r.stderr
    r = cli("edit", draft_id, "captions", "--engine", "whisper", env={"STUDIO_WHISPER_MODEL": ""})
    assert r.returncode == 1 and "Whisper needs a model folder" in r.stderr and "Traceback" not in r.stderr
    r = cli("edit", draft_id)
    assert r.returncode == 2 and "captions" in r.stderr
    assert json.loads(cli("drafts", "show", draft_id, "--json").stdout)["revision"] == 1, "nothing was saved"
