"""`kb users …`: the agents and admins who log in to the agent panel and the admin pages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from app.runtime import open_runtime
from cli.common import fail, settings_for

if TYPE_CHECKING:
    from kb.db.accounts import Accounts

app = typer.Typer(help="Agents and admins who log in to the agent panel and the admin pages.", no_args_is_help=True)


@contextmanager
def _accounts() -> Iterator[Accounts]:
    """The accounts in the configured database, an AccountError turned into a clear failure."""
    from kb.db.accounts import AccountError

    with open_runtime(settings_for()) as rt:
        try:
            yield rt.accounts
        except AccountError as e:
            fail(str(e))


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="agent or admin")] = "agent",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create a login (asks for the password)."""
    with _accounts() as accounts:
        user = accounts.add_user(name, role, _password(password_stdin))
    typer.echo(f"added {user.name} ({user.role})")


@app.command("password")
def users_password(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Set a new password; the user's open sessions end."""
    with _accounts() as accounts:
        accounts.set_password(name, _password(password_stdin))
    typer.echo(f"password of {name} changed")


@app.command("remove")
def users_remove(name: str) -> None:
    """Delete a login with its sessions and API tokens."""
    with _accounts() as accounts:
        accounts.remove_user(name)
    typer.echo(f"removed {name}")


@app.command("list")
def users_list() -> None:
    """List the logins and their roles."""
    with _accounts() as accounts:
        for u in accounts.list_users():
            typer.echo(f"{u.name}\t{u.role}")


@app.command("token")
def users_token(
    name: str,
    label: Annotated[str, typer.Option(help="what the token is for, e.g. the helpdesk integration")] = "api",
    revoke: Annotated[bool, typer.Option(help="revoke all of the user's tokens instead")] = False,
) -> None:
    """Print a new bearer token for the API (shown once; only its hash is stored)."""
    with _accounts() as accounts:
        if revoke:
            typer.echo(f"revoked {accounts.revoke_tokens(name)} tokens of {name}")
        else:
            typer.echo(accounts.create_token(name, label))
