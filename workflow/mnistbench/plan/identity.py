"""Fingerprints of the code that makes each output, so Snakemake re-runs what a change touches.

Rules call ``python -m mnistbench``, so Snakemake's own ``code`` trigger sees only the shell line.
The workflow passes these fingerprints as rule ``params`` instead. A step's fingerprint covers
every module of the core that the step's module imports, directly or through other modules, found
by reading their ``import`` statements (those inside functions included), with the files a module
loads from a folder beside it by name (the report's templates). A backend's fingerprint covers
its distribution's name and version, its package's files, and the core modules its package
imports (the NumPy backend's denormal flushing, say). So editing the train step's code re-runs
every run, editing the NumPy backend or a core helper only it imports re-runs NumPy's runs,
editing the report's code re-runs only the report, and editing a module no step imports (the
command-line wrapper, ``compare``) re-runs nothing. The fetch step has none: its output is pinned
by digest.

Each fingerprint is a SHA-256 over the relative paths and bytes of the files, so it does not
depend on where the code is installed or on file times.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from mnistbench import plugin as public_api

CORE = "mnistbench"
PACKAGE = Path(__file__).resolve().parents[1]  # the mnistbench package folder

# The module behind each fingerprinted step (``python -m mnistbench <step>`` runs its ``run``).
STEP_MODULES = {
    "train": "mnistbench.training.train",
    "evaluate": "mnistbench.evaluation.evaluate",
    "aggregate": "mnistbench.report.aggregate",
    "report": "mnistbench.report.render",
    "decide_seeds": "mnistbench.report.seed_look",
}
SOURCE_SUFFIXES = (".py", ".j2", ".html", ".css", ".js")


@cache
def top_level_spec(top: str) -> importlib.machinery.ModuleSpec | None:
    """Where the top-level module ``top`` lives, found without importing it (nor its imports)."""
    return importlib.util.find_spec(top)


def module_file(name: str) -> Path | None:
    """The source file of the module or package ``name`` (a ``.py`` or an ``__init__.py``)."""
    top, *rest = name.split(".")
    if top == CORE:
        folder = PACKAGE
    else:
        spec = top_level_spec(top)
        if spec is None or spec.origin is None:
            return None
        if not spec.submodule_search_locations:  # a single-module plugin
            return None if rest else Path(spec.origin).resolve()
        folder = Path(spec.origin).resolve().parent
    path = folder.joinpath(*rest)
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def imported_names(name: str, file: Path) -> frozenset[str]:
    """Every module name that ``file`` (the module ``name``) imports, anywhere in its body."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    return _imports(file.read_bytes(), str(file), package)


@cache
def _imports(source: bytes, where: str, package: str) -> frozenset[str]:
    """:func:`imported_names` of one source text, parsed once per process however many
    fingerprints share the file (the steps' and every plugin's)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # a submodule, maybe
            if base == public_api.__name__:  # names the public API loads on first use
                found.update(filter(None, (public_api.home(alias.name) for alias in node.names)))
    return frozenset(found)


@cache
def closure(module: str, roots: tuple[str, ...] = (CORE,)) -> frozenset[str]:
    """``module`` and every module under ``roots`` it imports, transitively, with the packages
    that hold them (importing ``a.b.c`` runs ``a`` and ``a.b`` first)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in seen or parts[0] not in roots or (file := module_file(prefix)) is None:
                continue
            seen.add(prefix)
            todo.extend(imported_names(prefix, file))
    return frozenset(seen)


def files_of(modules: Iterable[str]) -> list[Path]:
    """The source files of ``modules``, with the files each module loads from its folder."""
    files = set()
    for name in modules:
        file = module_file(name)
        files.add(file)
        files.update(shipped_files(file))
    return sorted(files)


def shipped_files(file: Path) -> set[Path]:
    """Source files in the non-package subfolders of ``file``'s folder that ``file`` names in a
    string (``PackageLoader("mnistbench.report", "templates")``): the files it loads at run time."""
    strings = _strings(file.read_bytes(), str(file))
    found = set()
    for sub in file.parent.iterdir():
        if sub.name in strings and sub.is_dir() and not (sub / "__init__.py").exists():
            found.update(p for p in sub.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES)
    return found


@cache
def _strings(source: bytes, where: str) -> frozenset[str]:
    """The string constants of one source text, parsed once per process."""
    return frozenset(
        node.value
        for node in ast.walk(ast.parse(source, where))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def digest(files: Iterable[Path], root: Path) -> str:
    """SHA-256 over the path relative to ``root`` and content of each file, in sorted order."""
    sha = hashlib.sha256()
    for path in sorted(files):
        sha.update(path.relative_to(root).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def step(name: str) -> str:
    """Fingerprint of the core code behind the step ``name`` (a key of :data:`STEP_MODULES`)."""
    files = files_of(closure(STEP_MODULES[name]))
    return "mnistbench sha256:" + digest(files, PACKAGE)[:16]


def plugin(module: object, distribution: str | None) -> str:
    """Fingerprint of a backend plugin: its distribution and version, its package's source files
    (a single-module plugin: its file), and the core modules it imports."""
    file = Path(getattr(module, "__file__", "") or "")
    name = getattr(module, "__name__", "")
    if file.name == "__init__.py":
        own = [p for p in file.parent.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES]
        source = digest(own, file.parent)
    elif file.is_file():
        source = digest([file], file.parent)
    else:
        return f"{distribution or 'not a distribution'} sha256:unknown"
    top = name.partition(".")[0]
    core = {m for m in closure(name, (top, CORE)) if m.partition(".")[0] == CORE}
    core_source = digest(files_of(core), PACKAGE)
    return f"{distribution or 'not a distribution'} sha256:{source[:16]} core:{core_source[:16]}"
