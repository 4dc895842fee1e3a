"""What every command shares: its settings and how it fails."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from kb.settings import Settings


def settings_for(articles: Path | None = None) -> Settings:
    """The settings from the environment, with the articles folder of --articles when given."""
    s = Settings()
    return s.model_copy(update={"articles_dir": articles}) if articles else s


def fail(message: str) -> NoReturn:
    """Print the error in red on stderr and exit with status 2."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)
