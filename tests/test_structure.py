"""The house rules a command can see (DESIGN.md, "Rules that keep the house livable").

Static checks over studio/: only studio/ui imports QtWidgets; no import cycles between our
modules; no private name imported from another module; only studio/media (and the local S3
launcher) starts processes; no service module reaches up into studio.app, studio.cli or
studio.ui; every exception class the app defines derives from studio.errors.StudioError.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
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
    import subprocess
    import sys

    code = ("import sys, importlib\n"
            "from studio.cli import command_modules\n"
            "for m in command_modules(): importlib.import_module(m).register\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'numpy', 'PIL', 'av', 'cv2',"
            " 'opentimelineio', 'sqlalchemy', 'boto3', 'alembic', 'pocketsphinx', 'starlette', 'uvicorn'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout
