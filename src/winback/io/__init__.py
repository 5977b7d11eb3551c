"""Reading and validating orders, events and customers (the one data gate), and atomic writers."""

from winback.io._write import write_atomic, write_frame, write_json

__all__ = ["write_atomic", "write_frame", "write_json"]
