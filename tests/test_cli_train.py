"""`winback train` from the command line: errors as one `Type: message` line, exit status 1."""

from typer.testing import CliRunner

from winback.cli import app

runner = CliRunner()


def test_a_config_error_is_one_line_and_exit_1(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: shop\ndata: {orders: o.csv}\nbacktest: {evaluation_cutoff: never}\n")
    result = runner.invoke(app, ["train", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("ConfigError: ")
    assert "backtest.evaluation_cutoff" in result.output
    assert "Traceback" not in result.output


def test_a_missing_orders_file_is_a_data_error(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(
        "name: shop\ndata: {orders: missing.csv}\nbacktest: {evaluation_cutoff: 2024-01-31}\n"
    )
    result = runner.invoke(app, ["train", "--config", str(path), "--no-tracking"])
    assert result.exit_code == 1
    assert result.output.startswith("DataError: ")
    assert "missing.csv" in result.output


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: shop\n")
    result = runner.invoke(app, ["--debug", "train", "--config", str(path)])
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "ConfigError"


def test_version_and_help():
    from winback import __version__

    assert runner.invoke(app, ["version"]).output.strip() == __version__
    help_text = runner.invoke(app, ["--help"]).output
    for command in ("train", "score", "export", "report"):
        assert command in help_text


def test_score_rejects_an_unknown_reasons_method(tmp_path):
    result = runner.invoke(
        app,
        [
            "score",
            "--model",
            str(tmp_path),
            "--orders",
            str(tmp_path / "o.csv"),
            "--as-of",
            "2024-01-31",
            "--out",
            str(tmp_path / "s.csv"),
            "--reasons",
            "fast",
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "ConfigError: winback score: invalid scoring options (--margin, --chunk-size, --reasons): "
        "reasons_method: must be one of"
    )
    assert "(got 'fast')" in result.output
