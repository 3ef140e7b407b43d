"""The contract of each variant, as a plugin author reads it: ``python -m mnistbench variants``.

The words (forward pass, loss, update, what ``predict`` returns, what each hyperparameter means)
come from the variant's :class:`~mnistbench.variants.base.Contract`; everything else is read off
the variant itself, so it cannot drift from the code: weight names, shapes and dtypes from
``initial_weights`` (a dimension that follows a hyperparameter is named after it), the
hyperparameters' types and defaults, the per-sample extras the core supplies, and the docstrings
of the input scaling, the initialisation and the training plan.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.data.shapes import MNIST, Shape
from mnistbench.variants import VARIANTS, Variant, random_streams

LAYOUTS = {
    "flat": "each sample one flat float32 vector, (N, pixels)",
    "images": "each sample one float32 image, (N, 1, H, W)",
}

PROBE_SAMPLES = 96  # training samples of the plan drawn to show the extras' shapes


def _named_shapes(make, hp: Mapping[str, Any], sizes: Mapping[str, int]) -> dict[str, str]:
    """``name -> "(pixels=784, hidden=300)"`` for the arrays ``make(hp, sizes)`` returns, naming
    each dimension that grows by one when an integer hyperparameter or a size of the data
    (``sizes``: pixels, classes) does; a dimension that follows several is their sum, with any
    constant first (``1 + pixels + hidden + classes=895``)."""
    base = make(hp, sizes)
    followers: dict[tuple[str, int], list[str]] = {}
    grown = [(k, make(hp, {**sizes, k: v + 1})) for k, v in sizes.items() if k == "pixels"]
    grown += [(k, make({**hp, k: v + 1}, sizes)) for k, v in hp.items() if _integer(v)]
    grown += [(k, make(hp, {**sizes, k: v + 1})) for k, v in sizes.items() if k != "pixels"]
    for key, bigger in grown:
        for name, array in base.items():
            for axis, (a, b) in enumerate(zip(array.shape, bigger[name].shape)):
                if b == a + 1:
                    followers.setdefault((name, axis), []).append(key)
    values = {**hp, **sizes}

    def dimension(name: str, axis: int, size: int) -> str:
        keys = followers.get((name, axis))
        if not keys:
            return str(size)
        offset = size - sum(int(values[k]) for k in keys)
        return f"{f'{offset} + ' if offset else ''}{' + '.join(keys)}={size}"

    return {
        name: "(" + ", ".join(dimension(name, i, n) for i, n in enumerate(array.shape)) + ")"
        for name, array in base.items()
    }


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def weight_shapes(variant: Variant) -> dict[str, str]:
    """``name -> "(pixels=784, hidden=300) float32"`` for the initial weights at the defaults,
    on MNIST's shape; ``pixels`` and ``classes`` follow the dataset's."""
    hp = variant.hyperparameters()

    def make(hp, sizes):
        shape = Shape(1, sizes["pixels"], sizes["classes"])
        return variant.weights_for(random_streams(0)[0], hp, shape)

    sizes = {"pixels": MNIST.pixels, "classes": MNIST.classes}
    dtypes = {name: array.dtype for name, array in make(hp, sizes).items()}
    return {
        name: f"{shape} {dtypes[name]}" for name, shape in _named_shapes(make, hp, sizes).items()
    }


def extras(variant: Variant) -> dict[str, str]:
    """The per-sample arrays the core adds to each epoch (e.g. dropout masks): shape, values."""
    hp = variant.hyperparameters(variant.small)

    def make(hp, sizes):
        _, order_rng, mask_rng = random_streams(0)
        plan = variant.plan(order_rng, mask_rng, PROBE_SAMPLES, hp)
        return {name: np.asarray(per_epoch[0]) for name, per_epoch in plan.extras.items()}

    found = {}
    for name, shape in _named_shapes(make, hp, {}).items():
        first = make(hp, {})[name]
        values = np.unique(first)
        shown = ", ".join(f"{v:g}" for v in values[:4]) + (", ..." if len(values) > 4 else "")
        found[name] = f"{shape} {first.dtype} (row i: the i-th sample visited), values {shown}"
    return found


def _doc(function: Any) -> str:
    return " ".join(inspect.getdoc(function).split()) if inspect.getdoc(function) else ""


def _kind(value: Any) -> str:
    return "int" if isinstance(value, int) else "float"


def describe(variant: Variant) -> str:
    """The variant's contract as Markdown."""
    c = variant.contract
    lines = [
        f"## `{variant.name}`",
        "",
        f"{variant.summary}. Source notebook `{variant.seed_notebook}`.",
        "",
        f"- **Inputs:** {_doc(variant.prepare_inputs)}",
        f"- **Input layout:** `{variant.input_layout}`, {LAYOUTS[variant.input_layout]}",
        f"- **Datasets:** {_datasets(variant)}",
        f"- **Initial weights (made by the core):** {_doc(variant.initial_weights)}",
        f"- **Training plan (made by the core):** {_doc(variant.plan)}",
        f"- **Forward pass:** {c.forward}",
        f"- **Loss:** {c.loss}",
        f"- **Update:** {c.update}",
        f"- **`predict` returns:** {c.predict}",
        "",
        "| weight | shape and dtype |",
        "|---|---|",
        *(f"| `{name}` | {shape} |" for name, shape in weight_shapes(variant).items()),
        "",
    ]
    extra = extras(variant)
    if extra:
        lines += ["| extra (`spec.extras`) | per epoch |", "|---|---|"]
        lines += [f"| `{name}` | {text} |" for name, text in extra.items()]
        lines.append("")
    lines += ["| hyperparameter | type | default | meaning |", "|---|---|---|---|"]
    lines += [
        f"| `{key}` | {_kind(value)} | {value} | {c.hyperparameters.get(key, '')} |"
        for key, value in variant.defaults.items()
    ]
    return "\n".join(lines) + "\n"


def _datasets(variant: Variant) -> str:
    """Which dataset shapes the variant takes, probed with EMNIST letters' 26 classes."""
    if variant.refuses(Shape(28, 28, 26)) is None:
        return "any image size and number of classes: one input per pixel, one output per class"
    if not variant.sized_by_data:
        return f"{MNIST} only: its weights are not sized from the data"
    return f"{MNIST} only: {_doc(variant.takes)}"


def shipped_with(distribution: str) -> dict[str, Variant]:
    """The installed variants that ``distribution`` provides, by name."""
    from mnistbench.plugin.variant_registry import installed_variants

    found = installed_variants()
    return {
        name: variant
        for name, variant in found.variants.items()
        if found.distributions[name].partition(" ")[0] == distribution
    }


def document(variants: Mapping[str, Variant] | None = None) -> str:
    """The contract of ``variants`` (default: every installed one). Those of the core's own
    distribution are the text of ``docs/variants.md``."""
    variants = VARIANTS if variants is None else variants
    head = (
        "# The variants' contract\n\n"
        "What every backend computes for each variant. Generated from the variants' declarations\n"
        "by `python -m mnistbench variants --distribution mnistbench`; a test fails when this\n"
        "file and the code disagree. Shapes use B for the batch and N for all samples; dense\n"
        "weights are laid out for `x @ W` (rows in, columns out). Every variant sizes itself\n"
        "from the dataset where it can: `pixels` is its image size (rows x cols, 784 on MNIST)\n"
        "and `classes` its number of classes (10 on MNIST); the shapes below are MNIST's.\n"
    )
    return head + "".join("\n" + describe(v) for v in variants.values())
