"""Distributions installed by hand, as a third party's would be: a ``.dist-info`` folder with
its entry points beside the modules, in a folder the test puts on ``sys.path`` or
``PYTHONPATH``."""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_distribution(
    site: Path,
    name: str,
    entry_points: str,
    modules: dict[str, str],
    group: str = "mnistbench.backends",
    version: str = "0.1",
) -> None:
    """Write distribution ``name`` into ``site``: ``entry_points`` (lines of ``name = target``)
    in ``group``, and each of ``modules`` (module name -> source, dedented)."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry_points}\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
