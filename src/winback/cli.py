"""The `winback` command line: parse, load config, call the library, print `Type: message`.

Library errors (:class:`~winback.exceptions.WinbackError`) are printed as one line and exit with
status 1; ``--debug`` shows the full traceback instead. Logging is configured here, never at import.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from winback.exceptions import DriftWarning, WinbackError, WinbackWarning

if TYPE_CHECKING:
    from winback.scoring import ScoringConfig

_HELP = "\n\n".join(
    [
        "Find the customers who are about to stop buying, what they are worth, and what to do.",
        "From orders to a campaign: `train` fits the models and backtests them against the "
        "classical baselines, `score` scores every customer as of a day (and, with --actions, "
        "assigns retention actions under a budget), `export` writes one list per action for a "
        "marketing tool, `report` writes one self-contained HTML page, and `measure` measures "
        "a sent campaign against its control group. `winback COMMAND --help` lists a "
        "command's options.",
        "Errors print as one line, `Type: message`; --debug shows the traceback.",
    ]
)


def _flags_without_placeholder(params: list[Any]) -> list[Any]:
    """Boolean flags shown by their two forms alone (``--tracking --no-tracking``), without
    typer's ``<bool>`` placeholder."""
    for param in params:
        if getattr(param, "is_bool_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_placeholder(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_placeholder(super().get_params(ctx))


class _App(typer.Typer):
    """A Typer whose commands render boolean flags without placeholders."""

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Callable[..., Any]:
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _App(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help=_HELP,
)
_state = {"debug": False}
_SOURCE_HELP = (
    "CSV/Parquet file, folder of Parquet files, postgresql://user@host:5432/db?table=NAME "
    "(or ?query=SQL, percent-encoded; password from PGPASSWORD or ~/.pgpass) or "
    "duckdb:///path/file.duckdb?table=NAME"
)

_DATE_FORMAT_HELP = (
    "strftime format of the files' dates that are not ISO 8601, e.g. '%d.%m.%Y' or '%d/%m/%Y %H:%M'"
)
_ENCODING_HELP = "text encoding of the CSV files, e.g. cp1252 (Excel on Windows) or latin-1"
DateFormat = Annotated[str | None, typer.Option("--date-format", help=_DATE_FORMAT_HELP)]
AsOfDateFormat = Annotated[
    str | None, typer.Option("--date-format", help=f"{_DATE_FORMAT_HELP}, also of --as-of")
]
Encoding = Annotated[str, typer.Option("--encoding", help=_ENCODING_HELP)]
_MAPPING = '"customer_id=Customer ID,..."; columns not named keep their own names'
Columns = Annotated[
    str | None, typer.Option("--columns", help=f"orders column mapping: {_MAPPING}")
]
EventColumns = Annotated[
    str | None, typer.Option("--event-columns", help=f"events column mapping: {_MAPPING}")
]
CustomerColumns = Annotated[
    str | None, typer.Option("--customer-columns", help=f"customers column mapping: {_MAPPING}")
]
Tracking = Annotated[bool, typer.Option("--tracking/--no-tracking", help="log the run to MLflow")]
ModelBundle = Annotated[Path, typer.Option("--model", "-m", help="model bundle folder")]
OrdersSource = Annotated[str, typer.Option("--orders", help=f"orders: {_SOURCE_HELP}")]
EventsSource = Annotated[str | None, typer.Option("--events", help="events: same forms")]
CustomersSource = Annotated[str | None, typer.Option("--customers", help="customers: same forms")]


def _print_version(value: bool) -> None:
    if value:
        from winback import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug/--no-debug", help="show full tracebacks")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose/--quiet", "-v", help="log progress at INFO")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version, exit"
        ),
    ] = False,
) -> None:
    """Find the customers who are about to stop buying, what they are worth, and what to do."""
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not debug:  # connection retries are summed up in winback's own error, not logged one by one
        logging.getLogger("urllib3").setLevel(logging.ERROR)


def run(fn, *args, **kwargs):
    """Call ``fn``; on a WinbackError print ``Type: message`` and exit 1 (unless --debug).

    winback's warnings print as one line, ``Type: message``, without a source path; drift is
    left to the command, which prints it from the run's summary (once).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DriftWarning)
            warnings.showwarning = functools.partial(_show_warning, warnings.showwarning)
            return fn(*args, **kwargs)
    except WinbackError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"{type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(code=1) from None


def _show_warning(python_show, message, category, filename, lineno, file=None, line=None) -> None:
    """winback's warnings as ``Type: message``; others as Python shows them."""
    if issubclass(category, WinbackWarning):
        typer.echo(f"{category.__name__}: {message}", err=True)
    else:
        python_show(message, category, filename, lineno, file, line)


@app.command()
def version() -> None:
    """Print winback's version."""
    from winback import __version__

    typer.echo(__version__)


@app.command()
def train(
    config: Annotated[Path, typer.Option("--config", "-c", help="training config YAML")] = Path(
        "configs/cdnow.yaml"
    ),
    tracking: Tracking = True,
    date_format: DateFormat = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help=f"{_ENCODING_HELP} (default: the config's)")
    ] = None,
    columns: Columns = None,
    event_columns: EventColumns = None,
    customer_columns: CustomerColumns = None,
) -> None:
    """Train on the data a config describes, evaluate against baselines, save and log the model.

    The column mapping options replace the config's data.columns, data.event_columns and
    data.customer_columns.
    """
    run(
        _train,
        config,
        tracking=tracking,
        date_format=date_format,
        encoding=encoding,
        mappings={"orders": columns, "events": event_columns, "customers": customer_columns},
    )


def _train(
    config_path: Path,
    *,
    tracking: bool,
    date_format: str | None,
    encoding: str | None,
    mappings: dict[str, str | None],
) -> None:
    import time

    from winback.training import load_config
    from winback.training import train as train_model

    start = time.perf_counter()
    parsed = _mappings(**mappings)
    config = load_config(config_path)
    data = config.data.with_reading(
        date_format=date_format,
        encoding=encoding,
        columns=parsed["orders"],
        event_columns=parsed["events"],
        customer_columns=parsed["customers"],
    )
    config = config.model_copy(update={"data": data})
    tracked = tracking and config.tracking.enabled
    if tracked:
        from winback.tracking import check_tracking, log_training_run

        check_tracking(config)  # fail before training, not after it
    result = train_model(config, base_dir=config_path.parent, progress=None)
    if tracked:
        result.run_id = log_training_run(result, config)
    typer.echo(result.table)
    for table, rejects in sorted(result.rejects.items()):
        if len(rejects):
            typer.echo(
                f"{len(rejects)} {table} row(s) rejected by the data gate: "
                f"{result.bundle_path / 'rejects' / f'{table}.csv'}"
            )
    typer.echo(f"\nmodel bundle: {result.bundle_path}")
    if result.run_id:
        typer.echo(f"MLflow run: {result.run_id}")
    typer.echo(f"done in {time.perf_counter() - start:.1f} s")


@app.command()
def score(
    model: ModelBundle,
    orders: OrdersSource,
    as_of: Annotated[str, typer.Option("--as-of", help="calendar day scored, e.g. 2024-03-31")],
    out: Annotated[Path, typer.Option("--out", "-o", help="scores file (.parquet or .csv)")],
    events: EventsSource = None,
    customers: CustomersSource = None,
    actions: Annotated[
        Path | None, typer.Option("--actions", help="campaign config, e.g. configs/actions.yaml")
    ] = None,
    columns: Columns = None,
    event_columns: EventColumns = None,
    customer_columns: CustomerColumns = None,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            help="share of spend kept as profit, in (0, 1]: expected_value = expected_spend x "
            "margin (default: expected_value is the spend)",
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="customers scored at a time")
    ] = 50_000,
    reasons: Annotated[
        str, typer.Option("--reasons", help="reason attribution: shap (exact) or path (faster)")
    ] = "shap",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="score on a local Dask cluster of N processes (each reads its own buckets when "
            "the inputs are `winback partition` folders or database tables)",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="score chunks on a Dask cluster, e.g. tcp://host:8786"),
    ] = None,
    allow_missing: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-missing",
            help="score a model trained with events or customers without them "
            "(events, customers; repeat the option for both); recorded in the summary",
        ),
    ] = None,
    date_format: AsOfDateFormat = None,
    encoding: Encoding = "utf-8",
    uplift_model: Annotated[
        Path | None,
        typer.Option("--uplift-model", help="uplift bundle for `uplift: model` actions"),
    ] = None,
) -> None:
    """Score every customer as of a day; with --actions, assign actions under a budget.

    Writes the scores, <stem>.rejects.csv (every customer not scored, and why) and
    <stem>.summary.json.
    """
    run(
        _score,
        model,
        orders,
        as_of=as_of,
        out=out,
        events=events,
        customers=customers,
        actions=actions,
        columns=columns,
        event_columns=event_columns,
        customer_columns=customer_columns,
        margin=margin,
        chunk_size=chunk_size,
        reasons=reasons,
        workers=workers,
        scheduler=scheduler,
        allow_missing=_tables_option(allow_missing),
        date_format=date_format,
        encoding=encoding,
        uplift_model=uplift_model,
    )


def _tables_option(values: list[str] | None) -> list[str]:
    """``--allow-missing events --allow-missing customers`` or ``events,customers``."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def _score(
    model: Path,
    orders: str,
    *,
    out: Path,
    columns: str | None,
    event_columns: str | None,
    customer_columns: str | None,
    margin: float | None,
    chunk_size: int,
    reasons: str,
    workers: int | None,
    scheduler: str | None,
    uplift_model: Path | None = None,
    **kwargs,
) -> None:
    import time

    from winback.scoring import score_files

    if uplift_model is not None:
        from winback.campaigns import load_uplift_model

        kwargs["uplift_model"] = load_uplift_model(uplift_model)
    start = time.perf_counter()
    mappings = _mappings(orders=columns, events=event_columns, customers=customer_columns)
    config = _scoring_config(chunk_size=chunk_size, reasons_method=reasons, margin=margin)
    with _dask_client(workers, scheduler) as client:
        result = score_files(
            model,
            orders,
            out=out,
            columns=mappings["orders"],
            event_columns=mappings["events"],
            customer_columns=mappings["customers"],
            config=config,
            client=client,
            **kwargs,
        )
    for line in result.lines:
        typer.echo(line)
    for name, path in result.paths.items():
        typer.echo(f"{name}: {path}")
    typer.echo(f"done in {time.perf_counter() - start:.1f} s")


def _mappings(**options: str | None) -> dict[str, dict[str, str] | None]:
    """Each table's column mapping option (``--columns``, ...) parsed, None when not given."""
    from winback.io import parse_columns_option

    return {
        table: parse_columns_option(text, table=table) if text else None  # type: ignore[arg-type]
        for table, text in options.items()
    }


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client for --workers (a local cluster) or --scheduler (an existing one), or None."""
    from winback.exceptions import ConfigError

    if workers is not None and scheduler is not None:
        raise ConfigError(
            "Give --workers (a local cluster) or --scheduler (an existing one), not both."
        )
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler)  # waits distributed.comm.timeouts.connect
        except OSError as exc:
            raise ConfigError(
                f"--scheduler {scheduler}: no Dask scheduler answered ({exc}). Start one with "
                "`dask scheduler` and workers with `dask worker <address>`, or use --workers N."
            ) from exc
        with client:
            yield client
        return
    quiet = logging.getLogger("distributed")  # its INFO lines on starting and stopping
    level = quiet.level
    quiet.setLevel(max(level, logging.WARNING))
    try:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        with cluster, Client(cluster) as client:
            yield client
    finally:
        quiet.setLevel(level)


@app.command("partition")
def partition(
    source: Annotated[
        str, typer.Argument(help="CSV or Parquet file, or folder of Parquet files, to rewrite")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="new folder for the buckets")],
    buckets: Annotated[
        int, typer.Option("--buckets", min=1, help="number of hash buckets (a few per worker)")
    ] = 64,
    column: Annotated[
        str, typer.Option("--column", help="the customer id column of the source")
    ] = "customer_id",
) -> None:
    """Rewrite orders, events or customers as hash buckets of whole customers (Parquet), so that
    each worker of a scoring run on a Dask cluster reads its own customers."""
    run(_partition, source, out=out, buckets=buckets, column=column)


def _partition(source: str, *, out: Path, buckets: int, column: str) -> None:
    import time

    from winback.io import partition_dataset

    start = time.perf_counter()
    dataset = partition_dataset(source, out, buckets=buckets, column=column)
    typer.echo(f"{dataset.count} buckets by {dataset.column}: {dataset.path}")
    typer.echo(f"done in {time.perf_counter() - start:.1f} s")


@app.command("export")
def export_(
    scores: Annotated[Path, typer.Option("--scores", help="scores written by `winback score`")],
    customers: Annotated[str, typer.Option("--customers", help=f"customers: {_SOURCE_HELP}")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder, e.g. exports/CAMPAIGN/")],
    layout: Annotated[str, typer.Option("--layout", help="generic or mailchimp")] = "generic",
    campaign_id: Annotated[
        str | None,
        typer.Option("--campaign-id", help="default: the one in the scores' summary.json"),
    ] = None,
    customer_columns: CustomerColumns = None,
    date_format: DateFormat = None,
    encoding: Encoding = "utf-8",
) -> None:
    """Write one list per action, the control and excluded lists; print who was left out, why."""
    run(
        _export,
        scores,
        customers,
        out=out,
        layout=layout,
        campaign_id=campaign_id,
        customer_columns=customer_columns,
        date_format=date_format,
        encoding=encoding,
    )


def _export(
    scores: Path,
    customers: str,
    *,
    out: Path,
    layout: str,
    campaign_id: str | None,
    customer_columns: str | None,
    date_format: str | None,
    encoding: str,
) -> None:

    from winback.exceptions import ConfigError
    from winback.export import export_campaign
    from winback.io import read_customers
    from winback.scoring import read_score_summary, read_scores

    mapping = _mappings(customers=customer_columns)["customers"]
    scored = read_scores(scores)
    campaign = read_score_summary(scores).get("actions", {})
    campaign_id = campaign_id or campaign.get("campaign_id")
    if not campaign_id or "action" not in scored.columns:
        raise ConfigError(
            f"{scores} has no campaign: score with --actions (e.g. configs/actions.yaml) so each "
            "customer gets an action, or pass --campaign-id for scores that have actions."
        )
    people = read_customers(customers, columns=mapping, date_format=date_format, encoding=encoding)
    result = export_campaign(
        scored,
        people.data,
        out,
        campaign_id=campaign_id,
        layout=layout,
        budget=campaign.get("budget"),
        consent_conflicts=people.consent_conflicts,
    )
    for line in result.lines:
        typer.echo(line)
    for path in result.files:
        typer.echo(str(path))


@app.command()
def report(
    scores: Annotated[
        Path | None, typer.Option("--scores", help="scores written by `winback score`")
    ] = None,
    orders: Annotated[str | None, typer.Option("--orders", help=f"orders: {_SOURCE_HELP}")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="report date (required with --orders)")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="model bundle: report its evaluation against the baselines"),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="folder written by `winback export`: who was left out"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="report folder")] = Path("reports"),
    columns: Columns = None,
    date_format: AsOfDateFormat = None,
    encoding: Encoding = "utf-8",
    measurement: Annotated[
        Path | None,
        typer.Option("--measurement", help="JSON written by `winback measure`: campaign results"),
    ] = None,
) -> None:
    """Write one self-contained HTML page for marketing (and report.md, report.json, charts)."""
    run(
        _report,
        scores,
        orders,
        as_of=as_of,
        model=model,
        export=export,
        out=out,
        columns=columns,
        date_format=date_format,
        encoding=encoding,
        measurement=measurement,
    )


def _report(
    scores: Path | None,
    orders: str | None,
    *,
    as_of: str | None,
    model: Path | None,
    export: Path | None,
    out: Path,
    columns: str | None,
    date_format: str | None,
    encoding: str,
    measurement: Path | None,
) -> None:
    from winback.io import parse_columns_option, read_orders
    from winback.report import build_report, read_summary
    from winback.scoring import read_score_summary, read_scores

    scored = summary = None
    if scores is not None:
        scored = read_scores(scores)
        summary = read_score_summary(scores) or None
    export_summary = None if export is None else read_summary(export / "summary.json")
    order_frame = None
    if orders is not None:
        mapping = parse_columns_option(columns) if columns else None
        read = read_orders(orders, columns=mapping, date_format=date_format, encoding=encoding)
        read.require_rows()
        order_frame = read.data
    if as_of is not None:
        as_of = _report_day(as_of, order_frame, date_format)
    named = (("scores", scores), ("orders", orders), ("model", model))
    sources = {k: _source_name(p) for k, p in named if p}
    path = build_report(
        scored=scored,
        orders=order_frame,
        cutoff=as_of,
        out_dir=out,
        model=model,
        scores_summary=summary,
        export_summary=export_summary,
        measurement=measurement,
        sources=sources,
    )
    typer.echo(str(path))


#: How far past the last order a report's --as-of may lie (a year of quiet is still a report).
_REPORT_DAYS_AFTER_DATA = 366


def _report_day(as_of: str, orders: Any, date_format: str | None) -> str:
    """``--as-of`` of a report as an ISO date, checked against the orders' dates when given."""
    from winback.dates import check_day_in_data, cutoff_day, day_to_timestamp, parse_date

    day = parse_date(as_of, name="--as-of", date_format=date_format)
    if orders is not None and len(orders):
        check_day_in_data(
            day,
            name="--as-of",
            first=orders["order_ts"].min(),
            last=orders["order_ts"].max(),
            after_days=_REPORT_DAYS_AFTER_DATA,
        )
    return str(day_to_timestamp(cutoff_day(day, name="--as-of")).date())


@app.command()
def measure(
    campaign: Annotated[
        Path, typer.Option("--campaign", help="scores with action and group, or an export folder")
    ],
    orders: Annotated[Path, typer.Option("--orders", help="orders, including those after it")],
    campaign_date: Annotated[
        str, typer.Option("--campaign-date", help="calendar day the campaign was sent")
    ],
    window_days: Annotated[
        int, typer.Option("--window-days", min=1, help="response window in days after it")
    ],
    results: Annotated[Path, typer.Option("--results", help="measurement JSON to write")] = Path(
        "measurement.json"
    ),
    update_actions: Annotated[
        Path | None,
        typer.Option("--update-actions", help="actions YAML to update with the measured uplift"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="new actions YAML (with --update-actions)")
    ] = None,
    prior_sd: Annotated[
        float, typer.Option("--prior-sd", help="prior SD of each configured uplift")
    ] = 0.05,
    margin: Annotated[
        float, typer.Option("--margin", help="share of revenue that is profit")
    ] = 1.0,
    orders_end: Annotated[
        str | None, typer.Option("--orders-end", help="last day the orders are complete through")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="churn model bundle (with --fit-uplift)")
    ] = None,
    fit_uplift: Annotated[
        Path | None, typer.Option("--fit-uplift", help="fit uplift models; bundle folder to write")
    ] = None,
    events: Annotated[Path | None, typer.Option("--events", help="events (--fit-uplift)")] = None,
    customers: Annotated[
        Path | None, typer.Option("--customers", help="customers (--fit-uplift)")
    ] = None,
    columns: Columns = None,
    event_columns: EventColumns = None,
    customer_columns: CustomerColumns = None,
    date_format: DateFormat = None,
    encoding: Encoding = "utf-8",
    tracking: Tracking = True,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow URI (default as for training)")
    ] = None,
) -> None:
    """Measure a campaign against its control group; optionally update actions, fit uplift."""
    run(
        _measure,
        campaign,
        orders,
        campaign_date=campaign_date,
        window_days=window_days,
        results=results,
        update_actions=update_actions,
        out=out,
        prior_sd=prior_sd,
        margin=margin,
        orders_end=orders_end,
        model=model,
        fit_uplift=fit_uplift,
        events=events,
        customers=customers,
        columns=columns,
        event_columns=event_columns,
        customer_columns=customer_columns,
        date_format=date_format,
        encoding=encoding,
        tracking=tracking,
        tracking_uri=tracking_uri,
    )


def _measure(
    campaign: Path, orders: Path, *, tracking: bool, tracking_uri: str | None, **options: Any
) -> None:
    from winback.campaigns import measure_files

    result = measure_files(campaign, orders, **options)
    for line in result.lines:
        typer.echo(line)
    if tracking:
        from winback.tracking import log_campaign_run

        typer.echo(f"MLflow run: {log_campaign_run(result.results, uri=tracking_uri)}")


def _source_name(source: Path | str) -> str:
    """How the report names an input: a file's name, or a database URL, password masked."""
    from winback.io import is_url, redact

    text = str(source)
    return redact(text) if is_url(text) else Path(text).name


def _scoring_config(**settings: object) -> ScoringConfig:
    """Validate scoring options, turning pydantic's error into a ConfigError naming the option."""
    from winback.scoring import ScoringConfig
    from winback.validation import validated

    return validated(
        ScoringConfig,
        settings,
        source="winback score",
        what="scoring options (--margin, --chunk-size, --reasons)",
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write, e.g. data/")] = Path(
        "data"
    ),
    sample: Annotated[
        bool,
        typer.Option(
            "--sample/--all", help="the CDNOW 1/10 sample (2,357 customers), or all 23,570"
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="seed of the simulated customers")] = 0,
) -> None:
    """Write demo data: CDNOW's orders.csv and a SIMULATED customers.csv (CDNOW has none)."""
    from winback.datasets import write_demo

    files = run(write_demo, out, sample=sample, seed=seed)
    typer.echo(f"{files.orders}: {files.n_orders:,} CDNOW orders, {files.n_customers:,} customers")
    typer.echo(
        f"{files.customers}: SIMULATED customers (e-mails at example.com, opt-ins, postal "
        f"addresses, countries; seed {seed}); see {files.manifest}"
    )


@app.command()
def features(
    model: ModelBundle,
    orders: OrdersSource,
    as_of: Annotated[str, typer.Option("--as-of", help="calendar day, e.g. 2024-03-31")],
    out: Annotated[Path, typer.Option("--out", "-o", help="features file (.csv or .parquet)")],
    events: EventsSource = None,
    customers: CustomersSource = None,
    columns: Columns = None,
    event_columns: EventColumns = None,
    customer_columns: CustomerColumns = None,
    date_format: DateFormat = None,
    encoding: Encoding = "utf-8",
) -> None:
    """Write the model's features as of a day: the input of `mlflow models predict`."""
    run(
        _features,
        model,
        orders,
        as_of,
        out,
        events=events,
        customers=customers,
        mappings=(columns, event_columns, customer_columns),
        date_format=date_format,
        encoding=encoding,
    )


def _features(
    model_path: Path,
    orders: str,
    as_of: str,
    out: Path,
    *,
    mappings: tuple[str | None, str | None, str | None],
    **reading: Any,
) -> None:
    from winback.scoring import write_model_features

    parsed = _mappings(orders=mappings[0], events=mappings[1], customers=mappings[2])
    written = write_model_features(
        model_path,
        orders,
        as_of=as_of,
        out=out,
        columns=parsed["orders"],
        event_columns=parsed["events"],
        customer_columns=parsed["customers"],
        **reading,
    )
    typer.echo(f"{written.path}: {written.rows:,} customers x {written.columns} features")


def main() -> None:
    """Entry point of the `winback` console script."""
    app()
