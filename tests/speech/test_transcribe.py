"""The built-in engine on speech it has not been tuned for: known sentences read by festival's HTS
voice under a real video. Word error rate, word times inside the spoken spans, and the Editor's
Auto captions workflow (progress, one undo step, cancel)."""

from __future__ import annotations

import pytest
from speech_helpers import wer

from studio.editor.document import Edit
from studio.speech.engines import choose_engine
from studio.speech.transcribe import transcribe_edit
from studio.tasks import SynchronousPool, use_pool

TOLERANCE_US = 120_000      # the recogniser's 10 ms frames and its silence model at the edges


def test_builtin_engine_wer_and_word_times(studio, talking_head) -> None:
    draft = studio.drafts.import_files([talking_head.path])
    edit = Edit.from_dict(draft.edit)
    seen = []
    words = transcribe_edit(edit, studio.drafts.media_refs(draft), choose_engine("builtin", studio.layout),
                            progress=seen.append)
    heard = [w[0] for w in words]
    assert wer(talking_head.words, heard) <= 0.35, heard
    for text, a, b in words:
        assert any(s - TOLERANCE_US <= a < b <= e + TOLERANCE_US for s, e in talking_head.spoken), (text, a, b)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 4
    # the comparison can fail: a wrong transcript is far off
    assert wer(talking_head.words, list(reversed(heard))) > 0.35


@pytest.fixture
def editor(studio, talking_head, qapp):
    from studio.editor.session import EditorSession

    draft = studio.drafts.import_files([talking_head.path])
    with use_pool(SynchronousPool()):
        session = EditorSession(studio)
        session.open(draft.id)
        yield session
        session.close()


def test_auto_captions_store_the_words_as_one_undo_step(editor, talking_head) -> None:
    progress, finished = [], []
    editor.captions_progress.connect(progress.append)
    editor.captions_finished.connect(finished.append)
    with use_pool(SynchronousPool()):
        assert editor.auto_captions("builtin")
    assert finished and finished[0] == len(editor.document.edit.captions.words) > 15
    assert progress[-1] == 1.0 and not editor.transcribing
    caps = editor.document.edit.captions
    assert caps.engine == "builtin" and len(caps.segments) >= 2
    # no line spans a 2 s silence
    for seg in caps.segments:
        assert not any(seg.start_us < a + 500_000 and seg.end_us > b - 500_000 for a, b in talking_head.silences)
    assert editor.document.dirty
    editor.document.stack.undo()
    assert editor.document.edit.captions.segments == []
    editor.document.stack.redo()
    assert editor.document.edit.captions.words == caps.words


def test_auto_captions_can_be_cancelled_and_change_nothing(editor) -> None:
    cancelled, finished = [], []
    editor.captions_cancelled.connect(lambda: cancelled.append(True))
    editor.captions_finished.connect(finished.append)
    # the creator presses Cancel as soon as the engine reports progress
    editor.captions_progress.connect(lambda f: f > 0.15 and editor.cancel_captions())
    with use_pool(SynchronousPool()):
        assert editor.auto_captions("builtin")
    assert cancelled == [True] and finished == []
    assert editor.document.edit.captions.segments == [] and editor.document.stack.count() == 0
    assert not editor.transcribing


def test_choosing_whisper_without_its_model_is_a_sentence_not_a_crash(editor, monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_WHISPER_MODEL", raising=False)
    failed = []
    editor.captions_failed.connect(failed.append)
    with use_pool(SynchronousPool()):
        editor.auto_captions("whisper")
    assert len(failed) == 1 and "Whisper needs a model folder" in str(failed[0])
    assert editor.document.edit.captions.segments == []


def test_remove_silences_is_proposed_then_applied_in_one_undo_step(editor, talking_head) -> None:
    proposals = []
    editor.silences_proposed.connect(proposals.append)
    before = editor.document.edit.duration_us
    with use_pool(SynchronousPool()):
        editor.propose_silences(min_silence_us=700_000, padding_us=150_000)
    (proposal,) = proposals
    assert len(proposal.cuts) == len(talking_head.silences) and editor.document.edit.duration_us == before, "a proposal changes nothing"
    for (a, b), (s, e) in zip(proposal.cuts, talking_head.silences):
        # festival's files end and begin with a little quiet of their own: the gap is a bit wider
        assert s - 300_000 < a < b < e + 300_000
    editor.apply_silence_cuts()
    assert editor.document.stack.count() == 1 and editor.document.stack.undoText() == "Remove silences"
    assert editor.document.edit.duration_us == before - proposal.removed_us
    assert proposal.removed_us > 0.75 * sum(e - s for s, e in talking_head.silences)
    editor.document.stack.undo()
    assert editor.document.edit.duration_us == before and len(editor.document.edit.clips) == 1
