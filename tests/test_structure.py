"""The house rules a command can see (DESIGN.md, "Rules that keep the house livable").

Static checks over studio/: only studio/ui imports QtWidgets; no import cycles between our
modules; no private name imported from another module; only studio/media (and the local S3
launcher) starts processes; no service module reaches up into studio.app, studio.cli or
studio.ui; every exception class the app defines derives from studio.errors.StudioError; an import
of our own modules inside a function says why on its line; the upload runner loads no widgets,
no painting and no editor.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import studio

ROOT = Path(studio.__file__).resolve().parent
PROCESS_STARTERS = ("studio.media", "studio.uploader.local_s3")  # ffmpeg/ffprobe; the SeaweedFS launcher
UPWARD = ("studio.app", "studio.cli", "studio.ui")
SERVICE_PACKAGES = ("studio.capture", "studio.editor", "studio.drafts", "studio.uploader", "studio.media",
                    "studio.db", "studio.publish", "studio.backend", "studio.speech")


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        rel = path.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


MODULES = _modules()


def _imports(name: str, tree: ast.Module):
    """(imported module, imported names, node) for every import statement, wherever it is."""
    package = name if (ROOT.parent / Path(*name.split("."))).is_dir() else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield mod, [a.name for a in node.names], node


def _ours(mod: str) -> str | None:
    """The studio module ``mod`` names (a package's __init__ counts as the package)."""
    while mod:
        if mod in MODULES:
            return mod
        mod = mod.rsplit(".", 1)[0] if "." in mod else ""
    return None


def test_only_the_ui_imports_widgets():
    bad = [f"{name}: line {node.lineno}" for name, tree in MODULES.items() if not name.startswith("studio.ui")
           for mod, names, node in _imports(name, tree)
           if mod.startswith("PySide6.QtWidgets") or (mod == "PySide6" and "QtWidgets" in names)]
    assert bad == [], f"QtWidgets outside studio/ui: {bad}"


def test_no_import_cycles():
    graph: dict[str, set[str]] = {n: set() for n in MODULES}
    for name, tree in MODULES.items():
        for mod, names, _node in _imports(name, tree):
            targets = [_ours(f"{mod}.{n}") or _ours(mod) for n in names] if names else [_ours(mod)]
            for t in targets:
                if t and t != name and not name.startswith(t + "."):  # a module may import its own package
                    graph[name].add(t)
    cycles, state = [], {}

    def visit(n: str, stack: list[str]) -> None:
        state[n] = "open"
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == "open":
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m, stack)
        stack.pop()
        state[n] = "done"

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_names_cross_modules():
    bad = []
    for name, tree in MODULES.items():
        for mod, names, node in _imports(name, tree):
            target = _ours(mod)
            if target is None or target == name:
                continue
            bad += [f"{name}:{node.lineno} imports {n} from {mod}" for n in names
                    if n.startswith("_") and not n.startswith("__")]
    assert bad == [], "private names imported across modules:\n" + "\n".join(bad)


def test_only_media_starts_processes():
    bad = [f"{name}:{node.lineno} imports {mod}" for name, tree in MODULES.items() if not name.startswith(PROCESS_STARTERS)
           for mod, names, node in _imports(name, tree)
           if mod in ("subprocess", "multiprocessing", "pty") or (mod == "os" and {"system", "popen", "fork"} & set(names))]
    calls = [f"{name}:{node.lineno} os.{node.func.attr}()" for name, tree in MODULES.items()
             if not name.startswith(PROCESS_STARTERS) for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
             and node.func.attr in ("system", "popen", "fork", "execv", "execvp", "spawnv", "posix_spawn")]
    assert bad + calls == [], "processes started outside studio/media:\n" + "\n".join(bad + calls)


def test_services_do_not_reach_up():
    bad = [f"{name}:{node.lineno} imports {mod}" for name, tree in MODULES.items()
           if name.startswith(SERVICE_PACKAGES) for mod, _names, node in _imports(name, tree)
           if mod.startswith(UPWARD)]
    assert bad == [], "service modules importing the app, the CLI or the UI:\n" + "\n".join(bad)


def test_every_error_has_one_root():
    from studio.errors import StudioError

    strays = []
    for info in pkgutil.walk_packages(studio.__path__, "studio."):
        if ".migrations" in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as e:  # noqa: BLE001 - a module that cannot import is its own failure
            pytest.fail(f"{info.name} does not import: {e}")
        for _n, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and issubclass(cls, BaseException) and not issubclass(cls, StudioError):
                strays.append(f"{info.name}.{cls.__name__}")
    assert strays == [], f"errors outside StudioError: {strays}"


def test_building_the_cli_parser_imports_nothing_heavy():
    """Every `studio` command imports every command module to build its parser, so those modules keep
    heavy imports inside the commands that need them (an upload must not pay for Qt or NumPy)."""
    code = ("import sys, importlib\n"
            "from studio.cli import command_modules\n"
            "for m in command_modules(): importlib.import_module(m).register\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'numpy', 'PIL', 'av', 'cv2',"
            " 'opentimelineio', 'sqlalchemy', 'boto3', 'alembic', 'pocketsphinx', 'starlette', 'uvicorn'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# The UI and the CLI keep imports inside their handlers by design: the CLI's command modules are all
# imported to build the parser (the test above), the UI imports a page off the UI thread when it is
# first shown. Everywhere else an import of our own modules belongs at the top, where a reader sees
# the dependency, unless the line says why not.
LOCAL_IMPORTS_BY_DESIGN = ("studio.ui", "studio.cli")
LOCAL_IMPORT_REASON = re.compile(r"#\s*noqa:\s*PLC0415\s+-\s+\S")


def _source_lines(name: str) -> list[str]:
    path = ROOT.parent / Path(*name.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return path.read_text(encoding="utf-8").splitlines()


def _function_local_imports(tree: ast.Module) -> set[ast.stmt]:
    return {node for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))}


def unexplained_local_imports(modules: dict[str, ast.Module], lines_of=_source_lines) -> list[str]:
    """``module:line import`` for every import of a studio module inside a function, outside the UI and
    the CLI, without ``# noqa: PLC0415 - <reason>`` on one of its lines."""
    bad = []
    for name, tree in sorted(modules.items()):
        if name.startswith(LOCAL_IMPORTS_BY_DESIGN):
            continue
        local, lines = _function_local_imports(tree), None
        for mod, _names, node in _imports(name, tree):
            if node not in local or _ours(mod) is None:
                continue
            lines = lines or lines_of(name)
            text = lines[node.lineno - 1: node.end_lineno]
            if not any(LOCAL_IMPORT_REASON.search(line) for line in text):
                bad.append((name, node.lineno, text[0].strip()))
    return [f"{name}:{line} {text}" for name, line, text in sorted(set(bad))]


def test_local_imports_of_our_modules_say_why():
    bad = unexplained_local_imports(MODULES)
    assert bad == [], ("imports of studio modules inside functions: move them to the top, or say why on the line "
                       "(`# noqa: PLC0415 - import cycle: a imports b` / `- heavy (numpy) and only this path needs "
                       "it` / `- keeps Qt out of the upload process` / `- optional engine`):\n" + "\n".join(bad))


def test_the_local_import_check_catches_an_unexplained_import():
    source = ("from studio.errors import StudioError\n\n"
              "def fine():\n    from studio.media import ffmpeg  # noqa: PLC0415 - heavy (av) and only this path\n\n"
              "def hidden():\n    import json\n    from studio.media.probe import (\n        probe)\n\n"
              "class C:\n    def m(self):\n        from . import ref\n        import studio.paths  # noqa: PLC0415\n")
    found = unexplained_local_imports({"studio.media.example": ast.parse(source)},
                                      lines_of=lambda _name: source.splitlines())
    assert [f.split(" ")[0] for f in found] == ["studio.media.example:8", "studio.media.example:13",
                                                "studio.media.example:14"]
    assert unexplained_local_imports({"studio.ui.example": ast.parse(source)},
                                     lines_of=lambda _name: source.splitlines()) == []


QT_PAINTING = ("PySide6.QtWidgets", "PySide6.QtGui")
HEAVY_FOR_UPLOADS = ("av", "cv2", "numpy")
# the pure edit document (and its looks table): studio/cli/drafts.py imports it, and every command builds
# every command's parser
EDITOR_THE_CLI_KNOWS = ("studio.editor", "studio.editor.document", "studio.editor.looks")


def _loaded_after(code: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, timeout=240, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _too_heavy_for_uploads(loaded: list[str], editor_allowed: tuple[str, ...] = ()) -> list[str]:
    return [m for m in loaded if m in QT_PAINTING or m.split(".")[0] in HEAVY_FOR_UPLOADS
            or (m.split(".")[:2] == ["studio", "editor"] and m not in editor_allowed)]


def test_the_upload_runner_loads_no_widgets_painting_or_editor():
    """The queue and its engine are what `studio uploads run` (and the app's upload worker) run: an
    upload must not pay for QtWidgets, QtGui, the editor, PyAV, OpenCV or NumPy."""
    loaded = _loaded_after("import studio.uploader.queue, studio.uploader.engine, studio.uploader.targets, "
                           "studio.uploader.local_s3, studio.uploader.webhook")
    assert "studio.uploader.queue" in loaded
    assert _too_heavy_for_uploads(loaded) == []


def test_studio_uploads_run_loads_no_widgets_painting_or_editor(tmp_path):
    """The whole `studio uploads run --until-idle` process on a fresh profile: parser, services, queue."""
    loaded = _loaded_after("from studio.cli import main\n"
                           f"assert main(['--data-dir', {str(tmp_path / 'profile')!r}, 'uploads', 'run', "
                           "'--until-idle', '--json']) == 0")
    assert "studio.uploader.queue" in loaded
    assert _too_heavy_for_uploads(loaded, EDITOR_THE_CLI_KNOWS) == []
