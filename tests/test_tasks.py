"""studio.tasks: the synchronous pool for logic tests, owner= and the one error presenter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject

from studio import tasks
from studio.tasks import SynchronousPool, run_in_background, set_error_presenter, use_pool


class _Sorry(RuntimeError):
    user_message = "The disk is full. Free some space and try again."


@pytest.fixture
def presented():
    seen = []
    previous = set_error_presenter(lambda exc, owner: seen.append((exc, owner)))
    yield seen
    set_error_presenter(previous)


def test_the_synchronous_pool_runs_in_line_and_in_order():
    order = []
    with use_pool(SynchronousPool()):
        run_in_background(lambda x: order.append(("run", x)) or x * 2, 21, on_done=lambda r: order.append(("done", r)))
        order.append("after")
    assert order == [("run", 21), ("done", 42), "after"]


def test_an_error_goes_to_on_error_with_the_exception_itself():
    got = []
    boom = _Sorry()

    def fail():
        raise boom

    run_in_background(fail, pool=SynchronousPool(), on_error=got.append, on_done=lambda _r: got.append("done"))
    assert got == [boom]


def test_without_on_error_the_presenter_shows_it(presented, qapp):
    owner = QObject()

    def fail():
        raise _Sorry()

    run_in_background(fail, pool=SynchronousPool(), owner=owner)
    ((exc, who),) = presented
    assert isinstance(exc, _Sorry) and who is owner
    assert tasks.user_message(exc) == _Sorry.user_message


def test_callbacks_of_a_deleted_owner_are_dropped(qtbot, presented):
    from shiboken6 import delete

    owner = QObject()
    got = []
    started = []

    def slow():
        started.append(1)
        return "result"

    # The threaded path: the owner dies while the job runs; neither callback may touch it.
    run_in_background(slow, owner=owner, on_done=got.append)
    run_in_background(lambda: 1 / 0, owner=owner)
    delete(owner)
    qtbot.waitUntil(lambda: len(started) == 1, timeout=5_000)
    qtbot.wait(200)
    assert got == [] and presented == []


def test_the_old_signature_still_works_on_the_global_pool(qtbot):
    got = []
    run_in_background(sum, [1, 2, 3], on_done=got.append)
    qtbot.waitUntil(lambda: got == [6], timeout=5_000)


def test_the_window_presents_a_sentence_not_a_traceback(qtbot):
    from PySide6.QtWidgets import QMessageBox, QWidget

    from studio.ui import error_presenter

    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    error_presenter.install(window)
    try:
        def fail():
            raise _Sorry()

        run_in_background(fail, pool=SynchronousPool(), owner=window)
        (box,) = window.findChildren(QMessageBox)
        assert box.text() == _Sorry.user_message
        box.close()
    finally:
        set_error_presenter(None)
