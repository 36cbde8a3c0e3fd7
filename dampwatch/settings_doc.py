"""Every DAMP_* setting of every runnable, for `dampwatch settings` and the README."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from store.settings import Settings


@dataclass(frozen=True, slots=True)
class SettingDoc:
    group: str
    variable: str
    default: str
    description: str


def settings_classes() -> dict[str, type[Settings]]:
    """The settings class of each runnable, by the name of the README section it belongs in."""
    from alerts.settings import NotifierSettings
    from api.settings import ApiSettings
    from dampwatch.cli import LogSettings
    from ingest.settings import IngestSettings
    from store.settings import DatabaseSettings, MqttSettings, ScoringSettings

    return {
        "every process": LogSettings,
        "database": DatabaseSettings,
        "mqtt": MqttSettings,
        "ingest": IngestSettings,
        "scoring": ScoringSettings,
        "api": ApiSettings,
        "notifier": NotifierSettings,
    }


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "(computed)"
    if field.default is PydanticUndefined or field.default is None:
        return "unset"
    if hasattr(field.default, "get_secret_value"):
        return "(secret)"
    return str(field.default)


def all_settings() -> list[SettingDoc]:
    """Each variable once, under the first group that declares it."""
    seen: set[str] = set()
    docs: list[SettingDoc] = []
    for group, cls in settings_classes().items():
        for name, field in cls.model_fields.items():
            variable = f"DAMP_{name.upper()}"
            if variable in seen:
                continue
            seen.add(variable)
            docs.append(SettingDoc(group, variable, _default(field), field.description or ""))
    return docs


def markdown_table(docs: list[SettingDoc]) -> str:
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{d.variable}` | {d.default} | {d.description} |" for d in docs]
    return "\n".join(lines)
