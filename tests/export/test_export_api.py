"""The public namespace of winback.export: every name in __all__ exists and is documented."""

from __future__ import annotations

import winback.export


def test_all_names_exist_and_have_docstrings() -> None:
    assert len(set(winback.export.__all__)) == len(winback.export.__all__)
    for name in winback.export.__all__:
        obj = getattr(winback.export, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"
    assert "export_campaign" in winback.export.__doc__
