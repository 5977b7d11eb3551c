"""The `winback` command line: parses arguments, calls the library, prints `Type: message` on errors."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.command()
def version() -> None:
    """Print winback's version."""
    from winback import __version__

    typer.echo(__version__)


def main() -> None:
    """Entry point of the `winback` console script."""
    app()
