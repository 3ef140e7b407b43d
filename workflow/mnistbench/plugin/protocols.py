"""What a plugin must define, checked when it loads: the backend surface and a step protocol.

A mistake in a plugin (a function it lacks, one that takes other parameters) is found when the
plugin loads, as one line naming the module, the function and the protocol's version; the
backend, or the (variant, backend) pair, is then left out as a plugin that fails to import is,
instead of being planned and failing at training with a traceback from deep inside a loop.
Parameters are checked by binding them with :func:`inspect.signature`, so a function may name
them as it likes (``STEP(p, state, ...)``) and take more that have defaults.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType

from mnistbench.plugin.hookspecs import HOOK_VERSION

# What every backend object provides at this hook version (docs/plugins.md, "The Backend surface")
BACKEND_ATTRIBUTES = ("name", "version", "variants")
BACKEND_METHODS = {
    "unavailable_reason": "",
    "devices": "",
    "setup": "spec",
    "predict": "variant, hyperparameters, weights, x, device",
}


def unfit(function: object, parameters: str) -> str | None:
    """Why ``function`` cannot be called with the comma-separated ``parameters`` (as
    positional arguments), or None when it can. Objects whose signature Python cannot read (some
    compiled functions) pass."""
    if function is None:
        return "is missing"
    if not callable(function):
        return f"is not callable ({type(function).__name__})"
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    names = [name.strip() for name in parameters.split(",") if name.strip()]
    try:
        signature.bind(*names)
    except TypeError:
        return f"takes {signature}"
    return None


@dataclass(frozen=True)
class StepProtocol:
    """One version of a backend's step protocol: the functions every step module must define,
    each with the parameters the backend's loop passes (``docs/step-protocol.md``).

    A backend hands it to :func:`mnistbench.plugin.backend_variants` and
    :func:`mnistbench.plugin.variant_module`, which check each step module when it is loaded::

        STEPS = StepProtocol("mybackend", 1, {"STEP": "w, state, x, y, extras, hp",
                                              "initial_state": "w", "predict": "w, x, hp"})
    """

    backend: str
    version: int
    required: Mapping[str, str] = field(default_factory=dict)  # function -> its parameters

    def problem(self, module: ModuleType) -> str | None:
        """One line naming the first required function ``module`` lacks or gets wrong, the
        module and this protocol's version; None when every one is there and fits."""
        for name, parameters in self.required.items():
            why = unfit(getattr(module, name, None), parameters)
            if why:
                return (
                    f"{module.__name__}: {name}({parameters}) {why} "
                    f"({self.backend} step protocol version {self.version})"
                )
        return None


def backend_problem(backend: object) -> str | None:
    """One line naming the first member of the backend surface ``backend`` lacks or gets wrong,
    its module and the hook version; None when it has them all."""
    kind = type(backend)
    where = f"{kind.__module__}.{kind.__qualname__} is not a mnistbench Backend:"
    version = f"(mnistbench hook version {HOOK_VERSION})"
    for name in BACKEND_ATTRIBUTES:
        try:
            getattr(backend, name)
        except AttributeError:
            return f"{where} it has no {name} {version}"
        except Exception as error:  # noqa: BLE001 - a property of a broken plugin may raise
            first = (str(error).strip().splitlines() or [""])[0]
            return f"{where} its {name} raised {type(error).__name__}: {first}"
    for name, parameters in BACKEND_METHODS.items():
        why = unfit(getattr(backend, name, None), parameters)
        if why:
            return f"{where} {name}({parameters}) {why} {version}"
    return None
