"""The editor's undo stack: QUndoStack's behaviour, with the commands owned by Python.

QUndoStack takes C++ ownership of every pushed QUndoCommand. With Python subclasses that is
unsafe under PySide6/shiboken 6.11: when a session becomes garbage through a reference cycle
(a lambda, a widget holding it), the cycle collector may free the command wrappers, and with them
the C++ commands, before the stack's destructor deletes the same commands again — a segfault in
``QUndoStack::clear`` (it killed a CI run inside an unrelated test's ``gc.collect()``). Here the
commands are plain Python objects, so no collector order can free anything twice.

Same rules as Qt's: ``push`` runs ``command.redo()``, drops the redo history, then merges the
command into the top one when both have the same ``id() != -1`` and ``top.mergeWith(command)``
accepts. The signals the editor binds keep QUndoStack's names (indexChanged, canUndoChanged,
canRedoChanged).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Signal


class Command(Protocol):
    def text(self) -> str: ...
    def id(self) -> int: ...  # noqa: A003 - QUndoCommand's name
    def mergeWith(self, other: "Command") -> bool: ...  # noqa: N802
    def redo(self) -> None: ...
    def undo(self) -> None: ...


class UndoStack(QObject):
    indexChanged = Signal(int)
    canUndoChanged = Signal(bool)
    canRedoChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._commands: list[Command] = []
        self._index = 0

    # -- reading ------------------------------------------------------------------------------
    def count(self) -> int:
        return len(self._commands)

    def index(self) -> int:
        return self._index

    def canUndo(self) -> bool:  # noqa: N802 - QUndoStack's spelling
        return self._index > 0

    def canRedo(self) -> bool:  # noqa: N802
        return self._index < len(self._commands)

    def undoText(self) -> str:  # noqa: N802
        return self._commands[self._index - 1].text() if self.canUndo() else ""

    def redoText(self) -> str:  # noqa: N802
        return self._commands[self._index].text() if self.canRedo() else ""

    # -- changing -----------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        before = self._state()
        command.redo()
        del self._commands[self._index:]
        top = self._commands[-1] if self._commands else None
        if not (top is not None and command.id() != -1 and top.id() == command.id() and top.mergeWith(command)):
            self._commands.append(command)
            self._index = len(self._commands)
        self._announce(before, force_index=True)

    def undo(self) -> None:
        if not self.canUndo():
            return
        before = self._state()
        self._index -= 1
        self._commands[self._index].undo()
        self._announce(before)

    def redo(self) -> None:
        if not self.canRedo():
            return
        before = self._state()
        self._commands[self._index].redo()
        self._index += 1
        self._announce(before)

    def clear(self) -> None:
        before = self._state()
        self._commands.clear()
        self._index = 0
        self._announce(before)

    # -- signals ------------------------------------------------------------------------------
    def _state(self) -> tuple[int, bool, bool]:
        return self._index, self.canUndo(), self.canRedo()

    def _announce(self, before: tuple[int, bool, bool], *, force_index: bool = False) -> None:
        index, can_undo, can_redo = self._state()
        if force_index or index != before[0]:
            self.indexChanged.emit(index)   # a merge keeps the index but changes the top: Qt emits too
        if can_undo != before[1]:
            self.canUndoChanged.emit(can_undo)
        if can_redo != before[2]:
            self.canRedoChanged.emit(can_redo)
