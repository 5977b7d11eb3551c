"""The CLI's options: every option a message recommends exists where the message is shown, every
table a command reads can be column-mapped, the help reads as a user's, `--version` works."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import winback
from winback.cli import app
from winback.io import COLUMNS_OPTIONS

SRC = Path(winback.__file__).parent
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]")
#: ``winback <command> ...`` up to the end of the command line quoted (a backtick, ``)``, ``;``
#: or the end of a sentence): the options in it are that command's.
NAMED_COMMAND = re.compile(r"winback ([a-z]+)((?:[^`);.]|\.\S)*)")
runner = CliRunner()


def _commands() -> dict[str, typer.core.TyperCommand]:
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


COMMANDS = _commands()
GLOBAL = {o for p in typer.main.get_command(app).params for o in (*p.opts, *p.secondary_opts)}


def options_of(command: str) -> set[str]:
    """The options ``winback <command>`` accepts, the global ones included."""
    params = COMMANDS[command].params
    return GLOBAL | {o for p in params for o in (*p.opts, *p.secondary_opts)} | {"--help"}


#: Which commands can show a message written in each part of winback. The layers below the
#: stages (reading data, dates, models, ...) speak to every command that reads data.
READING = ("train", "score", "export", "report", "measure")
OWNERS = {
    "tracking/_campaigns.py": ("measure",),
    "tracking/_log.py": ("train",),
    "scoring": ("score",),
    "export": ("export",),
    "campaigns": ("measure",),
    "report": ("report",),
    "training": ("train",),
    "tracking": ("train", "measure"),
    "actions": ("score", "measure"),
}


def _texts(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every string of a module as written (an f-string's fields as ``{}``), with its line."""
    inside = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            yield "".join(map(str, parts)), node.lineno
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside
        ):
            yield node.value, node.lineno


def recommended_options() -> Iterator[tuple[str, int, str, tuple[str, ...]]]:
    """(module, line, option, commands that may show it) for every option named in a string of
    winback's source. A string naming ``winback <command>`` is shown by that command, any other
    by the commands owning its part of winback (:data:`OWNERS`); the CLI's own strings are
    checked by running them (:mod:`test_cli_errors`)."""
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        unit = module.split("/")[0].removesuffix(".py")
        for text, line in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            if text in COLUMNS_OPTIONS.values():
                continue  # the mapping option of one table: checked per table below
            spans = [
                (m.start(2), m.end(2), m.group(1))
                for m in NAMED_COMMAND.finditer(text)
                if m.group(1) in COMMANDS
            ]
            for match in OPTION.finditer(text):
                named = [c for start, end, c in spans if start <= match.start() < end]
                if named:
                    owners: tuple[str, ...] = (named[0],)
                elif unit == "cli":
                    owners = ()  # the CLI's own messages: checked by running them
                else:
                    owners = OWNERS.get(module, OWNERS.get(unit, READING))
                yield module, line, match.group(), owners


def test_every_recommended_option_exists_on_the_commands_showing_it() -> None:
    dead = [
        f"{module}:{line} recommends {option}, which `winback {command}` does not have"
        for module, line, option, owners in recommended_options()
        for command in owners
        if option not in options_of(command)
    ]
    assert dead == []


def test_the_cli_s_own_messages_name_options_some_command_has() -> None:
    every = set().union(*(options_of(c) for c in COMMANDS))
    named = {o for m, _, o, owners in recommended_options() if not owners and m == "cli.py"}
    assert named and named <= every, named - every


def test_the_dead_advice_check_catches_an_option_no_command_has(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "winback"
    (fake / "scoring").mkdir(parents=True)
    (fake / "scoring" / "_x.py").write_text(
        'raise ValueError(f"bad {x}; pass --as-of-date")\nMSG = "see `winback export --as-of`"\n'
    )
    monkeypatch.setattr(f"{__name__}.SRC", fake)
    found = {(o, owners) for _, _, o, owners in recommended_options()}
    assert found == {("--as-of-date", ("score",)), ("--as-of", ("export",))}
    assert "--as-of" not in options_of("export")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_table_a_command_reads_can_be_column_mapped(command: str) -> None:
    options = options_of(command)
    read = {t for t in COLUMNS_OPTIONS if f"--{t}" in options or command == "train"}
    assert {COLUMNS_OPTIONS[t] for t in read} <= options, (command, read)


def test_column_options_name_the_tables_the_io_messages_name() -> None:
    assert dict(COLUMNS_OPTIONS) == {
        "orders": "--columns",
        "events": "--event-columns",
        "customers": "--customer-columns",
    }
    for command in ("score", "export", "report"):
        assert COLUMNS_OPTIONS["orders" if command != "export" else "customers"] in options_of(
            command
        )


def test_version_is_an_eager_option_and_a_command() -> None:
    for args in (["--version"], ["--version", "score"], ["version"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert result.output.strip() == winback.__version__


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def test_top_level_help_describes_the_commands_for_a_user() -> None:
    text = _help()
    assert "parse, load config" not in text and "print `Type" not in text
    for command in ("train", "score", "export", "report", "measure"):
        assert f"`{command}`" in text  # described in the overview, not only listed
    assert "--version" in text


@pytest.mark.parametrize("command", [None, *sorted(COMMANDS)])
def test_boolean_flags_render_as_flag_no_flag_without_placeholder(command: str | None) -> None:
    text = _help(*([command] if command else []))
    assert "<bool>" not in text
    params = typer.main.get_command(app).params if command is None else COMMANDS[command].params
    flags = [p for p in params if getattr(p, "is_bool_flag", False) and not p.is_eager]
    assert all(p.secondary_opts for p in flags), [p.opts for p in flags if not p.secondary_opts]
    for param in params:
        if getattr(param, "is_bool_flag", False) and param.secondary_opts:
            rows = text.splitlines()
            row = next(r for r in rows if re.match(rf"│[\s*]*{param.opts[0]}\s", r))
            assert re.search(rf"{param.opts[0]}\s.*{param.secondary_opts[0]}", row), row


def test_tracking_is_switched_off_with_no_tracking_on_train_and_measure() -> None:
    for command in ("train", "measure"):
        assert {"--tracking", "--no-tracking"} <= options_of(command)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_s_help_names_only_its_own_options(command: str) -> None:
    named = set(OPTION.findall(_help(command)))
    assert named <= options_of(command), named - options_of(command)
