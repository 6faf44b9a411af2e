"""Print the markdown table of every ``QBANK_*`` setting: variable, type, default, meaning.

    .venv/bin/python scripts/settings_table.py

The table is read off ``qbank.settings.Settings``, so it cannot list a setting
that does not exist or miss one that does.  The README's deploy section
(docs/DEPLOY.md) carries this output between the ``settings-table`` markers;
tests/test_deploy.py fails when the two differ, and the fix is to paste the
output in again.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from qbank.settings import PROJECT_ROOT, Settings

TYPE_NAMES: dict[object, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true/false",
    Path: "path",
    SecretStr: "secret",
}


def type_name(annotation: object) -> str:
    """A reader's name for a field type; ``X | None`` reads as ``X`` (its default says "unset")."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        return " or ".join(names)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"JSON list of {type_name(item)}"
    return TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def default_text(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, Path):
        # Paths under the checkout are shown relative to it, so the table is the same on every machine.
        if value.is_relative_to(PROJECT_ROOT):
            return f"`<project>/{value.relative_to(PROJECT_ROOT).as_posix()}`"
        return f"`{value.as_posix()}`"
    if isinstance(value, list):
        return f"`{value!r}`".replace("'", '"')
    return f"`{value}`"


def settings_table() -> str:
    prefix = Settings.model_config.get("env_prefix", "")
    rows = [
        "| Variable | Type | Default | Meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {type_name(field.annotation)} | {default_text(field)} | {meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
