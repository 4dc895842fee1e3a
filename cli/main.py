"""The `kb` Typer app: the global options and every command, in the order `kb --help` lists them."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from cli import evaluation, gaps, indexing, searching, suggesting, users

app = typer.Typer(
    help="Knowledge base and search for customer support.", no_args_is_help=True, pretty_exceptions_enable=False
)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what happens")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # Models come from pinned packages; never let a library reach for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


app.command()(indexing.index)
app.command()(indexing.serve)
app.command()(searching.search)
app.command("eval")(evaluation.eval_)
app.command()(suggesting.suggest)
app.command("eval-suggest")(evaluation.eval_suggest)
app.command()(gaps.gaps)
app.command()(gaps.health)
app.command("eval-gaps")(evaluation.eval_gaps)
app.add_typer(users.app, name="users")

if __name__ == "__main__":
    app()
