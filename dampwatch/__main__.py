"""`python -m dampwatch` is the `dampwatch` command."""

from dampwatch.cli import app

app()
