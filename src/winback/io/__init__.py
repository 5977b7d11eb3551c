"""Reading and validating orders, events and customers (the one data gate), and atomic writers.

``read_orders``, ``read_events`` and ``read_customers`` turn a CSV file, a Parquet file or a
DataFrame into a frame that follows the data contract plus a frame of rejected rows; the column
mapping models say which source column holds each canonical column; :func:`gate_rejects`
puts a reader's rejects in the one shape scoring and training report them in. ``write_atomic``,
``write_frame`` and ``write_json`` write output files atomically.
"""

from winback.io._columns import (
    CustomersColumns,
    EventsColumns,
    OrdersColumns,
    parse_columns_option,
)
from winback.io._read import ReadResult, read_customers, read_events, read_orders
from winback.io._rejects import gate_rejects
from winback.io._write import write_atomic, write_frame, write_json

__all__ = [
    "CustomersColumns",
    "EventsColumns",
    "OrdersColumns",
    "ReadResult",
    "gate_rejects",
    "parse_columns_option",
    "read_customers",
    "read_events",
    "read_orders",
    "write_atomic",
    "write_frame",
    "write_json",
]
