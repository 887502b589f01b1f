"""The editor's undo stack keeps QUndoStack's rules, and survives the cycle collector.

The collector test is the reason the stack exists: with QUndoStack, sessions that became garbage
through a reference cycle segfaulted the process inside ``gc.collect()`` (QUndoStack::clear
deleting commands the collector had already freed). It runs in a child process so a crash is a
failed test, not a dead test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from studio.editor.undo import UndoStack


class Step:
    def __init__(self, log: list, name: str, merge: int = -1):
        self.log, self.name, self.merge, self.parts = log, name, merge, [name]

    def text(self) -> str:
        return self.name

    def id(self) -> int:  # noqa: A003
        return self.merge

    def mergeWith(self, other: "Step") -> bool:  # noqa: N802
        self.parts += other.parts
        return True

    def redo(self) -> None:
        self.log.append(("redo", self.name))

    def undo(self) -> None:
        self.log.append(("undo", self.name))


def test_push_undo_redo_and_the_redo_history(qapp) -> None:  # noqa: ANN001
    log: list = []
    stack = UndoStack()
    seen = {"undo": [], "redo": [], "index": []}
    stack.canUndoChanged.connect(seen["undo"].append)
    stack.canRedoChanged.connect(seen["redo"].append)
    stack.indexChanged.connect(seen["index"].append)
    assert not stack.canUndo() and stack.undoText() == "" and stack.count() == 0
    stack.undo()                                   # nothing to undo: nothing happens
    assert log == []
    stack.push(Step(log, "a"))
    stack.push(Step(log, "b"))
    assert log == [("redo", "a"), ("redo", "b")] and stack.index() == 2 and stack.undoText() == "b"
    stack.undo()
    assert stack.redoText() == "b" and stack.canRedo()
    stack.push(Step(log, "c"))                     # a new step drops "b" from the redo history
    assert stack.count() == 2 and not stack.canRedo() and stack.undoText() == "c"
    stack.undo()
    stack.undo()
    stack.redo()
    assert log[-3:] == [("undo", "c"), ("undo", "a"), ("redo", "a")]
    assert seen["undo"] == [True, False, True] and seen["redo"] == [True, False, True]
    assert seen["index"] == [1, 2, 1, 2, 1, 0, 1]
    stack.clear()
    assert stack.count() == 0 and not stack.canUndo() and not stack.canRedo()


def test_commands_with_one_id_merge_into_the_top_step(qapp) -> None:  # noqa: ANN001
    log: list = []
    stack = UndoStack()
    stack.push(Step(log, "trim"))
    first = Step(log, "drag1", merge=7)
    stack.push(first)
    stack.push(Step(log, "drag2", merge=7))
    stack.push(Step(log, "drag3", merge=7))
    assert stack.count() == 2 and first.parts == ["drag1", "drag2", "drag3"]
    assert [name for kind, name in log if kind == "redo"] == ["trim", "drag1", "drag2", "drag3"]
    stack.push(Step(log, "other", merge=8))       # another id: its own step
    stack.push(Step(log, "plain"))                # id -1 never merges
    stack.push(Step(log, "plain2"))
    assert stack.count() == 5
    stack.undo()
    stack.undo()
    stack.undo()
    stack.push(Step(log, "drag4", merge=7))       # the top is the drag again: it merges
    assert stack.count() == 2 and first.parts[-1] == "drag4"


def test_sessions_in_reference_cycles_are_collected_without_a_crash() -> None:
    script = textwrap.dedent("""
        import gc
        from PySide6.QtCore import QCoreApplication
        from studio.editor import commands as cmd, document as doc
        from studio.editor.commands import EditSession

        app = QCoreApplication([])
        class Holder:
            pass

        for _ in range(20):
            sessions = []
            for _ in range(20):
                edit, clip = doc.add_clip(doc.new_edit(), "asset", 5_000_000)
                s = EditSession(None, "draft", edit, 1)
                s.changed.connect(lambda: None)
                s.holder = Holder()                      # a cycle, as a page holding its session makes one
                s.holder.session = s
                s.push(cmd.TrimClip(s, clip, in_us=1_000_000))
                added = s.push(cmd.AddText(s, "Hello", 0, 2_000_000))
                for k in range(3):
                    s.push(cmd.UpdateOverlay(s, added.new_id, x=0.5 + k * 0.05, y=0.5, drag=True))
                s.stack.undo()
                sessions.append(s)
            del sessions, s, added
            gc.collect()
        print("collected")
    """)
    r = subprocess.run([sys.executable, "-X", "faulthandler", "-c", script], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0 and "collected" in r.stdout, r.stderr[-2000:]
