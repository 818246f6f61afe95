"""`trackwell server`: run the API server (one process; DuckDB is opened by one process)."""

from __future__ import annotations

from pathlib import Path

import click


def _default_data_dir() -> str:
    import platformdirs

    return platformdirs.user_data_dir("trackwell")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--data-dir", envvar="TRACKWELL_DATA_DIR", type=click.Path(file_okay=False, path_type=Path),
              default=_default_data_dir, show_default="platform user data dir",
              help="Where the default databases live.")
@click.option("--db", "db_url", default=None,
              help="Metadata database URL (default: sqlite file <data-dir>/trackwell.db; "
                   "postgresql://user@host/db for PostgreSQL).")
@click.option("--metrics-db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB file for metric history (default: <data-dir>/metrics.duckdb).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
@click.option("--max-request-bytes", default=8 * 1024 * 1024, show_default=True, type=click.IntRange(min=1024),
              help="Largest request body accepted; larger ones are answered 413 with the limit.")
@click.option("--crash-timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.1),
              metavar="SECONDS", help="A running run not heard from (uploads or heartbeats) for this long "
                                      "is marked crashed.")
@click.option("--writer-lease", default=90.0, show_default=True, type=click.FloatRange(min=0.1),
              metavar="SECONDS", help="A run's writer not heard from for this long loses its claim: another "
                                      "process may then resume the run.")
@click.option("--max-keys-per-batch", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Most distinct metric keys one upload batch may log; past it the batch is answered 422 "
                   "and the client splits it.")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              metavar="SECONDS", help="A connection that has not sent a complete request head this long "
                                      "after opening (or after its previous response) is closed.")
@click.option("--body-timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.1),
              metavar="SECONDS", help="A request body that stalls (no byte) this long is abandoned and its "
                                      "connection closed.")
@click.option("--max-connections", default=None, type=click.IntRange(min=1),
              show_default="1000, or fewer under a low open-files limit",
              help="Open connections at most; one more is answered 503 and closed.")
def server(host: str, port: int, data_dir: Path, db_url: str | None, metrics_db: Path | None,
           log_level: str, max_request_bytes: int, crash_timeout: float, writer_lease: float,
           max_keys_per_batch: int, header_timeout: float, body_timeout: float, max_connections: int | None) -> None:
    """Run the trackwell server."""
    import logging

    try:
        import uvicorn

        from trackwell.server import create_app
        from trackwell.server._limits import guarded_h11
        from trackwell.server._logging import RepeatFilter
        from trackwell.store.metadata import normalize_url
    except ModuleNotFoundError as exc:
        # The extra's own packages are checked before we get here; this is one of their
        # dependencies missing (a partial install): the same fix.
        if exc.name is None or exc.name.partition(".")[0] == "trackwell":
            raise
        from trackwell.cli import server_extra_message

        raise click.ClickException(server_extra_message("server", [exc.name])) from None

    data_dir.mkdir(parents=True, exist_ok=True)
    url = normalize_url(db_url) if db_url else f"sqlite:///{data_dir / 'trackwell.db'}"
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # a storm of one warning becomes a count
        handler.addFilter(RepeatFilter())
    app = create_app(url, metrics_db or data_dir / "metrics.duckdb", max_request_bytes=max_request_bytes,
                     crash_timeout=crash_timeout, lease_timeout=writer_lease, max_keys_per_batch=max_keys_per_batch)
    # Our request log carries the retry id, so uvicorn's access log would only duplicate it; with
    # log_config=None uvicorn's own messages go through the handler (and filter) above.
    uvicorn.run(app, host=host, port=port, workers=1, log_level=log_level.lower(), access_log=False,
                log_config=None, http=guarded_h11(header_timeout, body_timeout, max_connections))
