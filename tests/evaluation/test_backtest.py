"""The printed comparison table."""

from winback.evaluation._backtest import format_table


def test_every_metric_name_gets_its_own_column_and_rows_line_up():
    evaluation = {
        "spend_273d": {
            "methods": {
                "winback": {"mae": 38.5, "total_relative_error": 0.0582},
                "bgnbd_gg": {"mae": 32.7, "total_relative_error": -0.1733},
                "a_long_method_name": {"mae": 1.0, "total_relative_error": 0.0},
            }
        }
    }
    lines = format_table(evaluation).strip().splitlines()
    assert lines[0] == "spend_273d"
    assert lines[1].split() == ["method", "mae", "total_relative_error"]
    assert lines[2].split() == ["winback", "38.5000", "0.0582"]
    assert lines[3].split() == ["bgnbd_gg", "32.7000", "-0.1733"]
    assert lines[4].split() == ["a_long_method_name", "1.0000", "0.0000"]
    assert len({len(line) for line in lines[1:]}) == 1  # right-aligned under their headers
