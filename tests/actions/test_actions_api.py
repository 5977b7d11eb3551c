"""The public namespace of winback.actions: every name in __all__ exists and is documented."""

from __future__ import annotations

import winback.actions


def test_all_names_exist_and_have_docstrings() -> None:
    assert len(set(winback.actions.__all__)) == len(winback.actions.__all__)
    for name in winback.actions.__all__:
        obj = getattr(winback.actions, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"


def test_module_docstring_says_what_it_owns() -> None:
    assert "segments" in winback.actions.__doc__
    assert "allocate_actions" in winback.actions.__doc__
