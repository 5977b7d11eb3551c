"""Reading and validating orders, events and customers (the one data gate), and atomic writers.

``read_orders``, ``read_events`` and ``read_customers`` turn a CSV file, a Parquet file, a folder of
Parquet files, a PostgreSQL or DuckDB table or query (by URL, or as a :class:`PostgresSource` or
:class:`DuckDBSource`) or a DataFrame into a frame that follows the data contract plus a frame of
rejected rows; :func:`partition_dataset` rewrites a table as hash buckets of whole customers
(:class:`BucketedDataset`, :func:`bucket_of`) and :func:`split_buckets` gives each bucket's sources,
so a worker reads its own customers; :func:`open_source` says what a source string names and
:func:`redact` masks the passwords of URLs in a text; the column mapping models say which source
column holds each canonical column (:data:`COLUMNS_OPTIONS`: the command-line option
mapping each table); :func:`gate_rejects` puts a reader's rejects in the one shape
scoring and training report them in; :func:`purchase_mask` says which orders are purchases (the one
definition); :func:`check_frame` checks a frame handed to a public function against the data
contract (once, where it enters). ``write_atomic``, ``write_frame`` and ``write_json`` write output
files atomically, :func:`output_lock` and :func:`write_together` write files that belong together as
one unit, and :func:`escape_formulas` / :func:`unescape_formulas` keep CSV cells from running as
formulas."""

from winback.io._arrow import DataSource
from winback.io._buckets import (
    BucketedDataset,
    BucketWriter,
    bucket_of,
    partition_dataset,
    split_buckets,
)
from winback.io._columns import (
    COLUMNS_OPTIONS,
    CustomersColumns,
    EventsColumns,
    OrdersColumns,
    parse_columns_option,
)
from winback.io._contract import check_frame
from winback.io._database import Bucket, DuckDBSource, PostgresSource
from winback.io._parquet import ParquetDataset
from winback.io._parse import parse_customer_ids
from winback.io._read import LineItems, ReadResult, read_customers, read_events, read_orders
from winback.io._rejects import gate_rejects
from winback.io._source import open_source
from winback.io._tables import purchase_mask
from winback.io._urls import is_url, redact, without_password
from winback.io._write import (
    LEDGER,
    check_replaceable,
    escape_formulas,
    output_lock,
    read_json_object,
    sha256_file,
    staging_path,
    unescape_formulas,
    write_atomic,
    write_frame,
    write_json,
    write_together,
)

__all__ = [
    "COLUMNS_OPTIONS",
    "LEDGER",
    "Bucket",
    "BucketWriter",
    "BucketedDataset",
    "CustomersColumns",
    "DataSource",
    "DuckDBSource",
    "EventsColumns",
    "LineItems",
    "OrdersColumns",
    "ParquetDataset",
    "PostgresSource",
    "ReadResult",
    "bucket_of",
    "check_frame",
    "check_replaceable",
    "escape_formulas",
    "gate_rejects",
    "is_url",
    "open_source",
    "output_lock",
    "parse_columns_option",
    "parse_customer_ids",
    "partition_dataset",
    "purchase_mask",
    "read_customers",
    "read_events",
    "read_json_object",
    "read_orders",
    "redact",
    "sha256_file",
    "split_buckets",
    "staging_path",
    "unescape_formulas",
    "without_password",
    "write_atomic",
    "write_frame",
    "write_json",
    "write_together",
]
