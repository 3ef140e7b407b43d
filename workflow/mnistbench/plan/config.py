"""The experiment's config: command-line overrides made into what each key needs, then checked.

Snakemake hands ``--config`` values over as YAML's base loader reads them, so every scalar inside
a list or mapping is a string: ``seeds=[0,1]`` arrives as ``['0', '1']``, ``backends=numpy`` as
``'numpy'`` where a list is wanted, ``hyperparameters={mlp: {epochs: 2}}`` as ``{'mlp':
{'epochs': '2'}}``. :func:`check` walks the JSON schema and turns each such value into the type
the schema asks for (a lone value into a one-item list), then validates. A value that still
cannot be what its key needs is one line naming the key, what was given and what is expected,
with an example in the form a user types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from mnistbench.errors import MnistbenchError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
_INTEGER = re.compile(r"[+-]?\d+")
_NULLS = ("null", "Null", "NULL", "~", "None")
_BOOLEANS = {"true": True, "True": True, "false": False, "False": False}


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def check(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``config`` with command-line strings coerced to the schema's types, validated.

    :raises MnistbenchError: one line naming the first key that is wrong, what it was given,
        what it expects and an example.
    """
    coerced = _Coercer(schema).coerce(dict(config), schema)
    _check_finite(coerced, "")
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(coerced))
    if error is not None:
        raise MnistbenchError(describe(error, schema))
    return coerced


def _check_finite(value: Any, key: str) -> None:
    """Refuse ``inf`` and ``nan`` anywhere (YAML's ``.inf``, ``1e400`` on the command line):
    the schema's bounds let them through, and a run would train on them to NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        raise MnistbenchError(f"config: {key}: {value!r} is not a finite number")
    if isinstance(value, Mapping):
        for inner, item in value.items():
            _check_finite(item, f"{key}.{inner}".lstrip("."))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{key}[{index}]")


def _alternative(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """Of a oneOf error (a value or a list of them), the error of the form the value has."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return error
    wants_list = isinstance(error.instance, list)
    for inner in sorted(error.context, key=lambda e: e.relative_schema_path[0]):
        form = error.validator_value[inner.relative_schema_path[0]]
        if (form.get("type") == "array") == wants_list:
            return _alternative(inner)
    return error


def describe(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> str:
    """One line: the key, what was given, what is expected and how to type it."""
    error = _alternative(error)
    path = list(error.absolute_path)
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        unknown = sorted(set(error.instance) - set(allowed))
        where = f" in {key}" if path else ""
        known = f" (known: {', '.join(sorted(allowed))})" if allowed else ""
        return f"config: unknown key {', '.join(map(repr, unknown))}{where}{known}"
    if not path:
        return f"config: {error.message}"
    top = schema.get("properties", {}).get(path[0], {})
    given = repr(error.instance) if isinstance(error.instance, str) else _flow(error.instance)
    line = f"config: {key}: got {given}, {_problem(error)}"
    own = error.schema.get("description") if isinstance(error.schema, Mapping) else None
    if error.validator == "pattern" and own:  # the key's own words, not a regular expression
        line = f"config: {key}: got {given}, which is not {own}"
    elif top.get("description"):
        line += f"; expected {top['description']}"
    if top.get("examples"):
        line += ", e.g. " + " or ".join(f"{path[0]}={_flow(e)}" for e in top["examples"])
    return line


def _problem(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"which is not {'an' if wanted[0] in 'aeiou' else 'a'} {wanted}"
    if error.validator in ("oneOf", "anyOf"):
        return "which matches none of the allowed forms"
    return error.message.replace(repr(error.instance), "it", 1)


def _flow(value: Any) -> str:
    """``value`` as a user would type it on the command line (YAML flow style)."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 16)
    return text.strip().removesuffix("...").strip()


class _Coercer:
    """Walks a JSON schema beside a value, converting strings where the schema wants a type."""

    def __init__(self, root: Mapping[str, Any]):
        self.root = root

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            node: Any = self.root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **node}
        return schema

    def valid(self, value: Any, schema: Mapping[str, Any]) -> bool:
        with_defs = {**schema, "$defs": self.root.get("$defs", {})}
        return jsonschema.Draft202012Validator(with_defs).is_valid(value)

    def coerce(self, value: Any, schema: Mapping[str, Any]) -> Any:
        schema = self.resolve(schema)
        for combinator in ("oneOf", "anyOf"):
            if combinator in schema:
                closest, fit = value, 3  # none fits: the form of the value's shape, for its error
                for option in schema[combinator]:
                    candidate = self.coerce(value, option)
                    if self.valid(candidate, option):
                        return candidate
                    if _misfit(self.resolve(option).get("type"), value) <= fit:
                        closest, fit = candidate, _misfit(self.resolve(option).get("type"), value)
                return closest
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else list(types)
        if isinstance(value, str):
            value = _scalar(value, types)
        if "array" in types and value is not None and not isinstance(value, list | dict):
            value = [value]
        if isinstance(value, list) and "items" in schema:
            return [self.coerce(item, schema["items"]) for item in value]
        if isinstance(value, dict):
            return {k: self.coerce(v, self.member(schema, k)) for k, v in value.items()}
        return value

    def member(self, schema: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        if key in schema.get("properties", {}):
            return schema["properties"][key]
        for pattern, sub in schema.get("patternProperties", {}).items():
            if re.search(pattern, key):
                return sub
        extra = schema.get("additionalProperties")
        return extra if isinstance(extra, dict) else {}


def _misfit(form: Any, value: Any) -> int:
    """How far a oneOf form is from the shape of ``value`` (0: its own shape): a list's form is an
    array; a lone value's a scalar, else an array (a list of one) before a mapping."""
    if isinstance(value, list):
        return 0 if form == "array" else 1
    if isinstance(value, dict):
        return 1 if form == "array" else 0
    return {"array": 1, "object": 2}.get(form, 0)


def _scalar(text: str, types: list[str]) -> Any:
    """``text`` as the first of ``types`` it can be; unchanged if none fits."""
    for kind in types:
        if kind == "null" and text in _NULLS:
            return None
        if kind == "boolean" and text in _BOOLEANS:
            return _BOOLEANS[text]
        if kind in ("integer", "number") and _INTEGER.fullmatch(text):
            return int(text)
        if kind == "number":
            try:
                return float(text)
            except ValueError:
                pass
        if kind == "string":
            return text
    return text
