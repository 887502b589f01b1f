"""Bad input, everywhere, gets a sentence: random and hostile arguments and files fed to the CLI
in-process (studio.cli.main on a temporary profile). Never a traceback, the exit status is 0, 1 or 2,
and a call that fails changes nothing in the profile."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.cli import main

HOSTILE = ["nan", "-nan", "inf", "-inf", "-1", "1e309", "0", "", " ", "abc", "0" * 40, "f" * 32, "../..",
           "--json", "-", "%", "_", "\u202e", "💥", "a" * 5000, "1" * 400, "--", "-x", "\\"]


@pytest.fixture(scope="module")
def profile(tmp_path_factory, shared_media):
    root = tmp_path_factory.mktemp("hostile")
    data = root / "profile"
    assert _run(data, "drafts", "import", str(shared_media / "minimal.mp4"), "--json")[0] == 0
    files = root / "files"
    files.mkdir()
    (files / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    (files / "deep-dict.json").write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    (files / "binary.json").write_bytes(bytes(range(256)) * 40)
    (files / "empty.json").write_text("")
    (files / "list.json").write_text("[1, 2, 3]")
    (files / "wrong.json").write_text(json.dumps({"schema_version": 999, "clips": "no"}))
    (files / "huge-numbers.json").write_text(json.dumps({"schema_version": 2, "clips": [
        {"asset_id": "x", "source_in_us": 10**400, "source_out_us": -1}]}).replace('"x"', "1e999"))
    (files / "not-media.mp4").write_text("hello")
    shutil.copyfile(shared_media / "minimal.mp4", files / "fine.mp4")
    return data, files


def _run(data: Path, *argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--data-dir", str(data), *argv])
    return code, out.getvalue() + err.getvalue()


def _snapshot(data: Path) -> tuple:
    import sqlite3

    con = sqlite3.connect(data / "studio.db")
    try:
        rows = tuple(tuple(con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall())
                     for t in ("drafts", "media_assets", "draft_assets", "draft_revisions", "upload_jobs",
                               "upload_targets"))
    finally:
        con.close()
    media = tuple(sorted((str(p.relative_to(data)), p.stat().st_size) for p in (data / "media").rglob("*")
                         if p.is_file() and not p.name.startswith(".")))
    return rows, media


def _draft_id(data: Path) -> str:
    code, out = _run(data, "drafts", "list", "--json")
    return json.loads(out[:out.rindex("]") + 1])[0]["id"] if code == 0 else "0" * 32


word = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30).filter(lambda s: "\x00" not in s))
file_names = ["random.bin", "random.json", "deep.json", "deep-dict.json", "binary.json", "empty.json", "list.json", "wrong.json",
              "huge-numbers.json", "not-media.mp4", "missing.json", "fine.mp4", ""]


@st.composite
def command(draw) -> list[str]:  # noqa: ANN001
    kind = draw(st.sampled_from(["list", "show", "rename", "delete", "restore", "purge", "import-edit",
                                 "export-edit", "import", "duplicate", "uploads", "targets", "raw"]))
    ident = draw(st.one_of(st.just("@ID"), st.just("@PREFIX"), word))
    f = "@FILE:" + draw(st.sampled_from(file_names))
    if kind == "list":
        return ["drafts", "list", draw(st.sampled_from(["--limit", "--offset", "--search"])), draw(word)]
    if kind == "purge":
        return ["drafts", "purge", draw(st.sampled_from(["--older-than", "--older-than=", "--all"])), draw(word)]
    if kind in ("show", "delete", "restore", "duplicate", "export-edit"):
        return ["drafts", kind, ident, *draw(st.lists(word, max_size=2))]
    if kind == "rename":
        return ["drafts", "rename", ident, draw(word)]
    if kind == "import-edit":
        return ["drafts", "import-edit", ident, f]
    if kind == "import":
        return ["drafts", "import", f, *draw(st.lists(st.sampled_from(["--title", f]), max_size=2))]
    if kind == "uploads":
        return ["uploads", draw(st.sampled_from(["list", "cancel", "pause", "resume"])), draw(word)]
    if kind == "targets":
        return ["targets", draw(st.sampled_from(["list", "test"])), draw(word)]
    return draw(st.lists(word, min_size=1, max_size=4))


@pytest.mark.timeout(300)
@settings(max_examples=70, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command(), blob=st.binary(max_size=3000),
       doc=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids,
                                                                                  max_size=4), max_leaves=25))
def test_hostile_arguments_and_files_get_a_sentence(profile, argv, blob, doc):
    data, files = profile
    (files / "random.bin").write_bytes(blob)
    (files / "random.json").write_text(json.dumps({"schema_version": 2, "clips": doc, "texts": doc}
                                                  if isinstance(doc, list) else doc))
    draft_id = _draft_id(data)
    argv = [a.replace("@ID", draft_id).replace("@PREFIX", draft_id[:8]) for a in argv]
    argv = [str(files / a[6:]) if a.startswith("@FILE:") else a for a in argv]
    if argv[0] not in ("drafts", "uploads", "targets") or "--help" in argv or "-h" in argv:
        argv = ["drafts", *argv]  # never the GUI, never a server
    before = _snapshot(data)
    code, output = _run(data, *argv)
    assert "Traceback" not in output, f"{argv}: {output[-3000:]}"
    assert code in (0, 1, 2), f"{argv} exited {code}: {output[-500:]}"
    if code != 0:
        assert output.strip(), f"{argv} failed without a sentence"
        assert _snapshot(data) == before, f"{argv} failed but changed the profile"
    # Undo a successful change so every example starts from one live draft.
    if code == 0 and argv[:2] == ["drafts", "delete"]:
        _run(data, "drafts", "restore", draft_id)


def test_named_hostile_inputs_exit_2_with_a_sentence(profile):
    data, files = profile
    draft_id = _draft_id(data)
    for argv in (["drafts", "purge", "--older-than", "nan"], ["drafts", "purge", "--older-than", "inf"],
                 ["drafts", "purge", "--older-than", "-3"],
                 ["drafts", "import-edit", draft_id, str(files / "deep.json")],
                 ["drafts", "import-edit", draft_id, str(files / "deep-dict.json")]):
        before = _snapshot(data)
        code, output = _run(data, *argv)
        assert code == 2 and "Traceback" not in output and output.strip(), (argv, code, output[-800:])
        assert _snapshot(data) == before
