"""The public namespace: every name in ``__all__`` resolves, and importing winback is light."""

import subprocess
import sys

import pytest

import winback


@pytest.mark.parametrize("name", winback.__all__)
def test_every_public_name_resolves(name):
    assert getattr(winback, name) is not None


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        winback.nope  # noqa: B018


def test_import_has_no_heavy_side_effects():
    code = (
        "import sys, warnings, winback; "
        "heavy = [m for m in ('mlflow', 'lightgbm', 'sklearn', 'matplotlib.pyplot') "
        "if m in sys.modules]; "
        "print(heavy, warnings.filters == warnings.filters)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True"


def test_exception_tree_has_one_base():
    for exc in (winback.DataError, winback.ConfigError, winback.ModelError, winback.LeakageError):
        assert issubclass(exc, winback.WinbackError)
    assert issubclass(winback.LeakageError, winback.DataError)
    assert issubclass(winback.DriftWarning, UserWarning)
