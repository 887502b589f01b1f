"""Qt's values for the code that builds and paints the first frame, without PySide's ``Qt`` namespace.

Looking up ``PySide6.QtCore.Qt`` (``from PySide6.QtCore import Qt`` included) makes all of its 93
Python enums at once: about 130 M instructions, a fifth of what a bare QMainWindow's whole start
costs (callgrind on this machine; Python 3.11 builds each enum member in Python). So the modules
on the first frame's path (the launcher, the error presenter, the main window, the Record page
and its preview) import ``QtCore`` and write ``QtCore.Qt.…`` only in code that runs after the first
paint; what runs before it names Qt's values here: enum properties by their keys' names through
the meta-object system, and the item-data role, which Qt's API takes as an ``int``.
``tests/test_startup.py`` checks that the namespace is still unmade when the first frame has
painted, and that these values are Qt's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

USER_ROLE = 0x0100   # Qt::UserRole (QListWidgetItem.setData and data take the role as an int)


def set_enum(obj: QObject, prop: str, keys: str) -> None:
    """Set the enum or flags property ``prop`` of ``obj`` by its keys' names, e.g.
    ``set_enum(widget, "focusPolicy", "ClickFocus")`` for ``widget.setFocusPolicy(Qt.ClickFocus)``."""
    meta = obj.metaObject()
    index = meta.indexOfProperty(prop)
    if index < 0:
        raise AttributeError(f"{meta.className()} has no property {prop!r}")
    value, ok = meta.property(index).enumerator().keysToValue(keys)
    if not ok or not obj.setProperty(prop, value):
        raise ValueError(f"{meta.className()}.{prop} cannot be set to {keys!r}")
