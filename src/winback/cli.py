"""The `winback` command line: parse, load config, call the library, print `Type: message`.

Library errors (:class:`~winback.exceptions.WinbackError`) are printed as one line and exit with
status 1; ``--debug`` shows the full traceback instead. Logging is configured here, never at import.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from winback.exceptions import WinbackError

if TYPE_CHECKING:
    from winback.scoring import ScoringConfig

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help=__doc__.splitlines()[0],
)
_state = {"debug": False}
_SOURCE_HELP = (
    "CSV/Parquet file, folder of Parquet files, postgresql://user@host:5432/db?table=NAME "
    "(or ?query=SQL, percent-encoded; password from PGPASSWORD or ~/.pgpass) or "
    "duckdb:///path/file.duckdb?table=NAME"
)

_DATE_FORMAT_HELP = (
    "strftime format of dates that are not ISO 8601, in the files and --as-of, "
    "e.g. '%d.%m.%Y' or '%d/%m/%Y %H:%M'"
)
_ENCODING_HELP = "text encoding of the CSV files, e.g. cp1252 (Excel on Windows) or latin-1"
DateFormat = Annotated[str | None, typer.Option("--date-format", help=_DATE_FORMAT_HELP)]
Encoding = Annotated[str, typer.Option("--encoding", help=_ENCODING_HELP)]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="show full tracebacks")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress at INFO")] = False,
) -> None:
    """winback: who is about to stop buying, what they are worth, and what to do about it."""
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not debug:  # connection retries are summed up in winback's own error, not logged one by one
        logging.getLogger("urllib3").setLevel(logging.ERROR)


def run(fn, *args, **kwargs):
    """Call ``fn``; on a WinbackError print ``Type: message`` and exit 1 (unless --debug)."""
    try:
        return fn(*args, **kwargs)
    except WinbackError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"{type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(code=1) from None


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
    no_tracking: Annotated[bool, typer.Option("--no-tracking", help="skip MLflow logging")] = False,
    date_format: DateFormat = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help=f"{_ENCODING_HELP} (default: the config's)")
    ] = None,
) -> None:
    """Train on the data a config describes, evaluate against baselines, save and log the model."""
    run(_train, config, tracking=not no_tracking, date_format=date_format, encoding=encoding)


def _train(
    config_path: Path, *, tracking: bool, date_format: str | None, encoding: str | None
) -> None:
    import time

    from winback.training import load_config
    from winback.training import train as train_model

    start = time.perf_counter()
    config = load_config(config_path)
    data = config.data.with_reading(date_format=date_format, encoding=encoding)
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
    model: Annotated[Path, typer.Option("--model", "-m", help="model bundle folder")],
    orders: Annotated[str, typer.Option("--orders", help=f"orders: {_SOURCE_HELP}")],
    as_of: Annotated[str, typer.Option("--as-of", help="calendar day scored, e.g. 2024-03-31")],
    out: Annotated[Path, typer.Option("--out", "-o", help="scores file (.parquet or .csv)")],
    events: Annotated[str | None, typer.Option("--events", help="events: same forms")] = None,
    customers: Annotated[
        str | None, typer.Option("--customers", help="customers: same forms")
    ] = None,
    actions: Annotated[
        Path | None, typer.Option("--actions", help="campaign config, e.g. configs/actions.yaml")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option("--columns", help='orders column mapping: "customer_id=Customer ID,..."'),
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
    date_format: DateFormat = None,
    encoding: Encoding = "utf-8",
    uplift_model: Annotated[
        Path | None,
        typer.Option("--uplift-model", help="uplift bundle for `uplift: model` actions"),
    ] = None,
) -> None:
    """Score customers as of a date; write scores, <stem>.rejects.csv and <stem>.summary.json."""
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
    chunk_size: int,
    reasons: str,
    workers: int | None,
    scheduler: str | None,
    uplift_model: Path | None = None,
    **kwargs,
) -> None:
    import time

    from winback.io import parse_columns_option
    from winback.scoring import score_files

    if uplift_model is not None:
        from winback.campaigns import load_uplift_model

        kwargs["uplift_model"] = load_uplift_model(uplift_model)
    start = time.perf_counter()
    mapping = parse_columns_option(columns) if columns else None
    config = _scoring_config(chunk_size=chunk_size, reasons_method=reasons)
    with _dask_client(workers, scheduler) as client:
        result = score_files(
            model, orders, out=out, columns=mapping, config=config, client=client, **kwargs
        )
    counts = result.summary["customers"]
    items = result.summary.get("line_items")
    if items and items["lines"] > items["orders"]:
        typer.echo(
            f"orders: aggregated {items['lines']:,} lines into {items['orders']:,} orders "
            f"({items['cancellations']:,} cancellations)"
        )
    typer.echo(
        f"{counts['input']} input customers = {counts['scored']} scored + "
        f"{counts['rejected']} rejected"
    )
    if result.summary.get("allowed_missing"):
        typer.echo(f"scored without: {', '.join(result.summary['allowed_missing'])}")
    drift = result.summary["drift"]
    if not drift["computed"]:
        typer.echo(f"drift not computed: {drift['reason']}")
    elif drift["drifted"]:
        typer.echo(f"drifted features (PSI > {drift['threshold']}): {', '.join(drift['drifted'])}")
    for name, path in result.paths.items():
        typer.echo(f"{name}: {path}")
    typer.echo(f"done in {time.perf_counter() - start:.1f} s")


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
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


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
    `winback score --workers N` lets each worker read its own customers."""
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
    date_format: DateFormat = None,
    encoding: Encoding = "utf-8",
) -> None:
    """Write the campaign's per-action list files, control and excluded lists and summary."""
    run(
        _export,
        scores,
        customers,
        out=out,
        layout=layout,
        campaign_id=campaign_id,
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
    date_format: str | None,
    encoding: str,
) -> None:

    from winback.exceptions import ConfigError
    from winback.export import export_campaign
    from winback.io import read_customers
    from winback.scoring import read_score_summary, read_scores

    scored = read_scores(scores)
    campaign = read_score_summary(scores).get("actions", {})
    campaign_id = campaign_id or campaign.get("campaign_id")
    if not campaign_id or "action" not in scored.columns:
        raise ConfigError(
            f"{scores} has no campaign: score with --actions (e.g. configs/actions.yaml) so each "
            "customer gets an action, or pass --campaign-id for scores that have actions."
        )
    people = read_customers(customers, date_format=date_format, encoding=encoding)
    result = export_campaign(
        scored,
        people.data,
        out,
        campaign_id=campaign_id,
        layout=layout,
        budget=campaign.get("budget"),
        consent_conflicts=people.consent_conflicts,
    )
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
    columns: Annotated[
        str | None,
        typer.Option("--columns", help='orders column mapping: "customer_id=Customer ID,..."'),
    ] = None,
    date_format: DateFormat = None,
    encoding: Encoding = "utf-8",
    measurement: Annotated[
        Path | None,
        typer.Option("--measurement", help="JSON written by `winback measure`: campaign results"),
    ] = None,
) -> None:
    """Write report.html (self-contained), report.md, report.json and charts; print the page."""
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
    columns: Annotated[
        str | None,
        typer.Option("--columns", help='orders column mapping: "customer_id=Customer ID,..."'),
    ] = None,
    no_tracking: Annotated[bool, typer.Option("--no-tracking", help="skip MLflow logging")] = False,
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
        tracking=not no_tracking,
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

    return validated(ScoringConfig, settings, source="winback score", what="scoring options")


def main() -> None:
    """Entry point of the `winback` console script."""
    app()
