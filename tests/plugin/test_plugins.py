"""Backend discovery through pluggy and the ``mnistbench.backends`` entry-point group."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mnistbench import hookimpl
from mnistbench.errors import MnistbenchError
from mnistbench.plugin import hookspecs
from mnistbench.plugin.backend import Backend
from mnistbench.plugin.registry import collect_backends, get_plugin_manager, load_backends
from tests.cli import run_cli
from tests.distributions import install_distribution

REPO = Path(__file__).resolve().parents[2]


def test_built_in_backends_arrive_through_the_entry_point_group():
    manager, failures = get_plugin_manager()
    assert failures == []
    assert {"numpy", "torch"} <= {name for name, _ in manager.list_name_plugin()}


def test_built_in_backends_satisfy_the_backend_protocol():
    registry = load_backends()
    for name in ("numpy", "torch"):
        assert isinstance(registry.backends[name], Backend)
        assert "mlp" in registry.backends[name].variants


class RaisingPlugin:
    @hookimpl
    def mnistbench_register_backends(self):
        raise RuntimeError("cannot find libfoo.so")


class NotABackendPlugin:
    @hookimpl
    def mnistbench_register_backends(self):
        return [object()]


def test_a_plugin_whose_hook_raises_is_reported_and_the_others_still_load():
    manager, _ = get_plugin_manager()
    manager.register(RaisingPlugin(), name="raising")
    registry = collect_backends(manager)
    assert [(f.plugin, f.error) for f in registry.failures] == [
        ("raising", "RuntimeError: cannot find libfoo.so")
    ]
    assert {"numpy", "torch"} <= set(registry.backends)
    with pytest.raises(MnistbenchError, match="backend 'raising' failed to load"):
        registry.get("raising")


def test_an_object_that_is_not_a_backend_is_refused():
    manager, _ = get_plugin_manager()
    manager.register(NotABackendPlugin(), name="bogus")
    registry = collect_backends(manager)
    assert registry.failures[0].plugin == "bogus"
    assert "is not a mnistbench Backend" in registry.failures[0].error


def test_unknown_backend_error_lists_the_installed_ones():
    registry = load_backends()
    installed = ", ".join(sorted(registry.backends))
    with pytest.raises(MnistbenchError) as error:
        registry.get("mxnet")
    assert str(error.value) == f"backend 'mxnet' is not installed (installed: {installed})"


THIRD_PARTY = """
    from mnistbench import hookimpl
    MNISTBENCH_HOOK_VERSION = 2

    class EchoBackend:
        name, version, variants = "echo", "0.1", frozenset({"mlp"})
        def unavailable_reason(self): return None
        def devices(self): return ["cpu"]
        def setup(self, spec): raise NotImplementedError
        def predict(self, variant, hyperparameters, weights, x, device): raise NotImplementedError

    @hookimpl
    def mnistbench_register_backends():
        return [EchoBackend()]
"""


def run_backends_command(site: Path) -> subprocess.CompletedProcess:
    code = (
        f"import sys; sys.path.insert(0, {str(site)!r}); "
        "from mnistbench.cli import main; sys.exit(main(['backends']))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_a_third_party_plugin_installed_by_entry_point_is_listed(tmp_path):
    install_distribution(
        tmp_path, "mnistbench_echo", "echo = echo_backend", {"echo_backend": THIRD_PARTY}
    )
    listing = run_backends_command(tmp_path).stdout
    assert "echo 0.1 (devices: cpu; variants: mlp; implementations: tuned)" in listing
    assert "numpy" in listing and "torch" in listing


def test_a_plugin_that_fails_to_import_is_named_and_the_others_still_load(tmp_path):
    install_distribution(
        tmp_path,
        "mnistbench_broken",
        "broken = broken_backend",
        {"broken_backend": "import a_module_that_is_not_installed\n"},
    )
    listing = run_backends_command(tmp_path).stdout
    assert (
        "broken: failed to load: ModuleNotFoundError: No module named "
        "'a_module_that_is_not_installed'"
    ) in listing
    assert "numpy" in listing and "torch" in listing


def test_every_hook_is_documented_in_docs_plugins_md():
    docs = (REPO / "docs" / "plugins.md").read_text()
    hooks = [name for name in dir(hookspecs) if name.startswith("mnistbench_")]
    assert hooks
    for hook in hooks:
        assert f"## `{hook}(" in docs, f"{hook} is missing from docs/plugins.md"


def backends_json(env: dict[str, str]) -> dict[str, dict]:
    result = run_cli("backends", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


def test_backends_json_lists_name_versions_distribution_devices_and_variants():
    listed = backends_json({})
    numpy = listed["numpy"]
    assert numpy["framework_version"] == importlib.metadata.version("numpy")
    assert numpy["distribution"] == "mnistbench-numpy"
    assert numpy["distribution_version"] == importlib.metadata.version("mnistbench-numpy")
    assert numpy["available"] is True and numpy["devices"] == ["cpu"]
    assert numpy["variants"] == sorted(load_backends().backends["numpy"].variants)


def test_backends_json_lists_each_backends_implementations_default_first():
    listed = backends_json({})
    assert listed["numpy"]["implementations"] == ["tuned"]
    assert listed["jax"]["implementations"] == ["autograd"]
    torch = listed["torch"]
    assert torch["implementations"] == ["tuned", "autograd", "compiled"]
    assert torch["variant_implementations"]["mlp"] == ["tuned", "autograd", "compiled"]
    assert torch["variant_implementations"]["predictive_coding"] == ["tuned"]


def numpy_plugin_source(class_name: str, name: str, hook_version: str | int) -> str:
    """A plugin module that states ``MNISTBENCH_HOOK_VERSION = hook_version`` (a number or an
    expression, e.g. ``HOOK_VERSION``) and registers the NumPy backend as ``class_name``, renamed
    ``name``."""
    return f"""
    from mnistbench import hookimpl
    from mnistbench.plugin.hookspecs import HOOK_VERSION
    from mnistbench_numpy import NumpyBackend

    MNISTBENCH_HOOK_VERSION = {hook_version}

    class {class_name}(NumpyBackend):
        name = {name!r}

    @hookimpl
    def mnistbench_register_backends():
        return [{class_name}()]
    """


def numpy_plugin(name: str, **methods) -> object:
    """An in-process plugin registering the NumPy backend renamed ``name``, ``methods`` replaced."""
    from mnistbench_numpy import NumpyBackend

    backend = type("Renamed", (NumpyBackend,), {"name": name, **methods})()

    class Plugin:
        @hookimpl
        def mnistbench_register_backends(self):
            return [backend]

    return Plugin()


FUTURE = numpy_plugin_source("Future", "future", 3)
# Version 1: ``train(spec)`` yielded the epochs, and no statement of the version meant 1.
OLD = """
    from mnistbench import hookimpl
    class Old:
        name, version, variants = "old", "0.1", frozenset({"mlp"})
        def unavailable_reason(self): return None
        def devices(self): return ["cpu"]
        def train(self, spec): yield from ()
        def predict(self, variant, hyperparameters, weights, x, device): raise NotImplementedError

    @hookimpl
    def mnistbench_register_backends():
        return [Old()]
"""


NO_VERSION = (
    "old_backend declares no MNISTBENCH_HOOK_VERSION: this mnistbench provides hook version "
    f"{hookspecs.HOOK_VERSION}; add MNISTBENCH_HOOK_VERSION = {hookspecs.HOOK_VERSION} to "
    "old_backend once it implements that version"
)
OTHER_VERSION = (
    "built for mnistbench hook version 3; this mnistbench provides version "
    f"{hookspecs.HOOK_VERSION}"
)


@pytest.mark.parametrize(
    ("module", "source", "error"),
    [("future_backend", FUTURE, OTHER_VERSION), ("old_backend", OLD, NO_VERSION)],
)
def test_a_plugin_built_for_another_hook_version_or_stating_none_is_told_so_and_the_others_load(
    tmp_path, module, source, error
):
    name = module.removesuffix("_backend")
    install_distribution(tmp_path, f"mnistbench_{name}", f"{name} = {module}", {module: source})
    listed = backends_json({"PYTHONPATH": str(tmp_path)})
    assert listed[name] == {"name": name, "available": False, "error": error}
    assert name.title() not in str(listed)
    assert listed["numpy"]["available"] and listed["torch"]["available"]


def test_a_plugin_stating_the_current_hook_version_loads(tmp_path):
    source = numpy_plugin_source("Current", "current", "HOOK_VERSION")
    modules = {"current_backend": source}
    install_distribution(
        tmp_path, "mnistbench_current", "current = current_backend", modules, version="2.5"
    )
    current = backends_json({"PYTHONPATH": str(tmp_path)})["current"]
    assert current["available"] and current["distribution"] == "mnistbench_current"
    assert current["distribution_version"] == "2.5"


def test_a_backend_whose_name_cannot_name_a_folder_is_a_failed_plugin_and_the_rest_load():
    manager, _ = get_plugin_manager()
    manager.register(numpy_plugin("../escape"), name="odd")
    registry = collect_backends(manager)
    assert [(f.plugin, f.error) for f in registry.failures] == [
        (
            "odd",
            "backend name '../escape' cannot name a results folder "
            "(allowed: letters, digits, '_', '.', '-'; a letter or digit first)",
        )
    ]
    assert "../escape" not in registry.backends
    assert {"numpy", "torch"} <= set(registry.available())


def cannot_probe(backend):
    raise OSError("cannot probe the accelerator")


def test_a_backend_whose_availability_check_raises_is_a_failed_plugin():
    manager, _ = get_plugin_manager()
    manager.register(numpy_plugin("unsure", unavailable_reason=cannot_probe), name="unsure")
    registry = collect_backends(manager)
    assert [(f.plugin, f.error) for f in registry.failures] == [
        (
            "unsure",
            "backend 'unsure': unavailable_reason() raised OSError: cannot probe the accelerator",
        )
    ]
    assert {"numpy", "torch"} <= set(registry.available())
