"""The README documents every setting, command and endpoint, so it stays true as code grows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from dampwatch.cli import app
from dampwatch.settings_doc import SettingDoc, all_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: Any, prefix: str = "dampwatch") -> list[str]:
    """Every leaf command's full name (typer vendors its own click, so no isinstance)."""
    found: list[str] = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


@pytest.mark.parametrize("setting", all_settings(), ids=lambda s: str(s.variable))
def test_every_setting_is_described_and_in_the_readme(setting: SettingDoc) -> None:
    """A DAMP_* variable nobody can find or understand is a setting nobody can use."""
    variable = setting.variable
    assert setting.description, f"{variable} has no description"
    assert f"`{variable}`" in README, f"{variable} is missing from README.md"


def test_every_command_is_in_the_readme() -> None:
    """Each `dampwatch` sub-command appears in the README's command table."""
    commands = _commands(typer.main.get_command(app))
    assert "dampwatch demo" in commands
    missing = [c for c in commands if f"`{c}" not in README]
    assert missing == []


def test_every_endpoint_is_in_the_readme(database_url: str) -> None:
    """Each path of the OpenAPI document appears in the README's endpoint list."""
    from api.app import create_app
    from api.settings import ApiSettings

    schema = create_app(ApiSettings(database_url=database_url)).openapi()
    paths = sorted(schema["paths"])
    assert "/api/v1/alerts" in paths
    missing = [
        p for p in paths if not re.search(rf"`(GET|POST|PUT|PATCH|DELETE) {re.escape(p)}`", README)
    ]
    assert missing == []
