"""`trackwell server`: run the API server (one process; DuckDB is opened by one process)."""

from __future__ import annotations

from pathlib import Path

import click

from trackwell.cli._ports import client_url, free_port, port_free


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
@click.option("--blob-store", default=None, metavar="DIR|s3://BUCKET/PREFIX",
              help="Where run files and artifacts are stored (default: <data-dir>/blobs). For s3://, boto3 reads "
                   "the endpoint and credentials from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
                   "AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION) or its config files.")
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
@click.option("--auth", "auth", type=click.Choice(["keys", "none"]), default="keys", show_default=True,
              help="keys: every request needs an API key (or a browser session). none: no checks, every "
                   "request acts as the admin (a trusted single-user box only).")
@click.option("--allow-insecure", is_flag=True, help="Allow --auth none on a non-loopback --host.")
@click.option("--public-url", default=None, metavar="URL",
              help="The URL users reach this server at (behind a proxy, a DNS name): its host is accepted in "
                   "Host headers and its origin for browser requests.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A further host name this server answers to (DNS-rebinding guard); repeatable.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="An origin whose pages may call the API from a browser (CORS); repeatable. Default: none.")
@click.option("--auth-failures-per-minute", default=30, show_default=True, type=click.IntRange(min=1),
              help="Failed sign-ins one client address may make per minute before it is answered 429.")
@click.option("--allow-private-webhooks", is_flag=True, envvar="TRACKWELL_ALLOW_PRIVATE_WEBHOOKS",
              help="Let automations send webhooks to loopback and private addresses (refused by default: SSRF).")
@click.option("--max-sweep-agents", default=20, show_default=True, type=click.IntRange(min=1),
              help="Agents one sweep may have active at once; the next is refused with this limit named.")
@click.option("--sweep-agent-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds without a heartbeat after which a sweep agent's slot is free again.")
def server(host: str, port: int, data_dir: Path, db_url: str | None, metrics_db: Path | None,
           blob_store: str | None, log_level: str, max_request_bytes: int, crash_timeout: float, writer_lease: float,
           max_keys_per_batch: int, header_timeout: float, body_timeout: float, max_connections: int | None,
           auth: str, allow_insecure: bool, public_url: str | None, allowed_hosts: tuple[str, ...],
           cors_origins: tuple[str, ...], auth_failures_per_minute: int,
           allow_private_webhooks: bool, max_sweep_agents: int, sweep_agent_timeout: float) -> None:
    """Run the trackwell server."""
    import logging

    if auth == "none" and not _is_loopback(host) and not allow_insecure:
        raise click.UsageError(f"--auth none on --host {host} lets anyone who reaches this machine read and change "
                               "every run; use --auth keys, bind to 127.0.0.1, or add --allow-insecure")

    if not port_free(host, port):  # before the database is touched or a key saved for this URL
        other = free_port(host)
        raise click.ClickException(
            f"port {port} on {host} is in use (another trackwell server, or another program); start on a free "
            f"port, e.g. `trackwell server --port {other}`, and point scripts and the CLI at it with "
            f"`export TRACKWELL_BASE_URL={client_url(host, other)}`")

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
    if auth == "none":
        logging.getLogger("trackwell.server").warning(
            "--auth none: no API keys are checked; every request acts as the admin. Anyone who can reach "
            "%s:%s (any local user on this machine, too) can read, stop and rewind every run", host, port)
    app = create_app(url, metrics_db or data_dir / "metrics.duckdb", max_request_bytes=max_request_bytes,
                     crash_timeout=crash_timeout, lease_timeout=writer_lease, max_keys_per_batch=max_keys_per_batch,
                     auth=auth, public_url=public_url, allowed_hosts=allowed_hosts, cors_origins=cors_origins,
                     auth_failures_per_minute=auth_failures_per_minute, bootstrap_urls=_local_urls(host, port),
                     blob_store=blob_store or data_dir / "blobs", allow_private_webhooks=allow_private_webhooks,
                     max_sweep_agents=max_sweep_agents, sweep_agent_timeout=sweep_agent_timeout)
    # Our request log carries the retry id, so uvicorn's access log would only duplicate it; with
    # log_config=None uvicorn's own messages go through the handler (and filter) above.
    uvicorn.run(app, host=host, port=port, workers=1, log_level=log_level.lower(), access_log=False,
                log_config=None, http=guarded_h11(header_timeout, body_timeout, max_connections))


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _local_urls(host: str, port: int) -> list[str]:
    """The URLs a client on this machine reaches the server at: where the first admin's key is saved."""
    urls = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost", ""):
        urls.append(f"http://{'[' + host + ']' if ':' in host else host}:{port}")
    return urls
