"""The ``shoubanping`` command line."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

import click
from pydantic import ValidationError

from workflow.settings import Settings, get_settings, problem

DEMO_DB = "sqlite:///shoubanping-demo.db"


def _settings(**overrides) -> Settings:
    """The settings, or a one-line error (``Error: ...``, exit 1) that says what to fix."""
    try:
        return Settings(**overrides) if overrides else get_settings()
    except ValidationError as exc:
        raise click.ClickException(problem(exc)) from None


def _logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper()), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Shoubanping (收办评): collect, handle and evaluate residents' requests.

    Settings come from SHOUBANPING_* environment variables; see README.md.
    """


@main.command()
@click.option("--demo", is_flag=True, help="Start on a seeded demo street (its own SQLite file unless "
              "SHOUBANPING_DATABASE_URL is set) and print the demo accounts.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--log-level", default="info", show_default=True)
def serve(demo: bool, host: str, port: int, log_level: str) -> None:
    """Run the HTTP server. Without SHOUBANPING_REDIS_URL it also runs the worker in-process."""
    import uvicorn

    from workflow import migrate

    _logging(log_level)
    overrides: dict = {}
    if demo:
        overrides["dev_mode"] = True
        if "SHOUBANPING_DATABASE_URL" not in os.environ:
            overrides["database_url"] = DEMO_DB
    settings = _settings(**overrides)
    migrate.upgrade(settings.database_url)
    if demo:
        from workflow import demo as demo_data

        _seed_demo(settings, demo_data)
        click.echo(demo_data.accounts_text())
    from .app import create_app

    click.echo(f"Shoubanping on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


def _seed_demo(settings: Settings, demo_data) -> bool:
    from workflow.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        return demo_data.seed_into(make_session_factory(engine), settings)
    finally:
        engine.dispose()


@main.command()
@click.option("--threads", default=None, type=int, help="Worker threads (default SHOUBANPING_WORKER_THREADS).")
@click.option("--log-level", default="info", show_default=True)
def worker(threads: int | None, log_level: str) -> None:
    """Run a dramatiq worker on Redis (SHOUBANPING_REDIS_URL), with an outbox relay beside it.

    Run as many as you like; each consumes from the same queue."""
    from handlers.broker import describe
    from handlers.runtime import Runtime, freeze_startup_heap, limit_malloc_arenas

    _logging(log_level)
    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("SHOUBANPING_REDIS_URL is not set: in embedded mode `serve` runs the worker.")
    if threads:
        settings = settings.model_copy(update={"worker_threads": threads})
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    limit_malloc_arenas()
    runtime = Runtime(settings, worker=True).start()
    freeze_startup_heap()
    click.echo(f"worker running: {describe(settings)}, {settings.worker_threads} threads", err=True)
    try:
        stop.wait()
    finally:
        runtime.stop()
        click.echo("worker stopped", err=True)


@main.command()
@click.option("--once", is_flag=True, help="Sweep once and exit (for cron or a test).")
@click.option("--log-level", default="info", show_default=True)
def scheduler(once: bool, log_level: str) -> None:
    """Sweep deadlines every SHOUBANPING_SWEEP_INTERVAL_SECONDS: 80 % reminders, escalation of
    overdue requests, withdrawal of unclaimed tasks, expiry of evaluation windows, overdue deductions.
    Every SHOUBANPING_SCORE_REFRESH_SECONDS, recompute draft scores whose facts changed.

    Safe to run more than one. In embedded mode `serve` sweeps by itself."""
    from handlers.runtime import Runtime

    _logging(log_level)
    settings = _settings()
    # The sweeps write outbox rows that this process publishes; when embedded it also runs them.
    runtime = Runtime(settings, scheduler=not once).start()
    try:
        if once:
            report = runtime.scheduler_once()
            click.echo(f"swept: {report}")
            from workflow.scoring import runs

            refreshed = runs.refresh(runtime.sessions, settings)
            click.echo(f"scores recomputed: {', '.join(refreshed) or 'none needed'}")
            runtime.drain() if runtime.embedded else runtime.relay.publish_pending()
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        click.echo(f"scheduler running, every {settings.sweep_interval_seconds:g}s", err=True)
        stop.wait()
    finally:
        runtime.stop()
        if not once:
            click.echo("scheduler stopped", err=True)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Apply Alembic migrations up to REVISION."""
    from workflow import migrate

    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@main.group()
def scores() -> None:
    """Scores: the three rates, member assessments and rankings of a period."""


@scores.command("recompute")
@click.option("--period", required=True, help="The period, YYYY-MM (e.g. 2026-10).")
def scores_recompute(period: str) -> None:
    """Recompute a period's draft scores for every street, community, grid and member, replacing the
    previous draft. Published snapshots are not touched. Running it twice gives the same result.
    Written to the audit log as the operator's."""
    from workflow.access import Actor
    from workflow.db import make_engine, make_session_factory, unit_of_work
    from workflow.errors import DomainError
    from workflow.scoring import runs

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            run = runs.recompute(session, settings, period, actor=Actor(role="operator"))
            counts = runs.row_counts(session, run)
            click.echo(f"period {run.period} ({run.period_kind}, {run.period_start} to {run.period_end}), "
                       f"policy version {run.policy_version}: {counts['unit_rows']} unit rows, "
                       f"{counts['member_rows']} member assessments, {counts['ranked']} ranked")
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message.render('en')}") from exc
    finally:
        engine.dispose()


@scores.command("reproduce")
@click.option("--period", required=True, help="The period, YYYY-MM.")
def scores_reproduce(period: str) -> None:
    """Recompute every stored run of a period (draft and publications) as of the facts and policy
    version it was made from, and report any difference. Exits 1 if a run no longer holds."""
    from workflow.db import make_engine, make_session_factory, unit_of_work
    from workflow.scoring import runs

    settings = _settings()
    engine = make_engine(settings.database_url)
    failed = False
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            stored = runs.stored_runs(session, period)
            if not stored:
                raise click.ClickException(f"no stored runs for period {period}")
            for run in stored:
                notes: list[str] = []
                differences = runs.reproduce(session, settings, run, notes)
                label = f"run {run.id} ({run.status.value} {run.scope_kind.value}:{run.scope_id} rev {run.revision})"
                click.echo(f"{label}: {'holds' if not differences else f'{len(differences)} differences'}")
                for line in notes:
                    click.echo(f"  note: {line}")
                for line in differences[:20]:
                    click.echo(f"  {line}")
                failed = failed or bool(differences)
    finally:
        engine.dispose()
    if failed:
        sys.exit(1)


@main.group()
def audit() -> None:
    """Audit: check stored state against the history that should have produced it."""


@audit.command("verify")
@click.option("--request", "request_ids", multiple=True, type=click.IntRange(1, 2_147_483_647),
              help="Check only this request (repeatable) [default: every request].")
@click.option("--show", default=50, show_default=True, type=click.IntRange(0),
              help="Print at most this many differences.")
def audit_verify(request_ids: tuple[int, ...], show: int) -> None:
    """Replay every request's events from nothing and compare the state they give (status, community
    and street, route, merge, reopen count, supervision, key times, claims) with the stored rows.
    Prints each request whose stored state differs from its history and exits 1 if there is any."""
    from sqlalchemy import func, select

    from workflow import replay
    from workflow.db import make_engine, make_session_factory, unit_of_work
    from workflow.models import Request

    settings = _settings()
    engine = make_engine(settings.database_url)
    differences = 0
    requests: set[int] = set()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            checked = len(request_ids) if request_ids else session.scalar(select(func.count()).select_from(Request))
            for difference in replay.verify(session, list(request_ids) if request_ids else None):
                differences += 1
                requests.add(difference.request_id)
                if differences <= show:
                    click.echo(difference.text())
    finally:
        engine.dispose()
    if differences > show:
        click.echo(f"... and {differences - show} more differences")
    click.echo(f"checked {checked} requests: {len(requests)} differ from their history")
    if differences:
        sys.exit(1)


@main.command("demo")
def demo_command() -> None:
    """Seed the demo city into the configured database (which must be empty): two simulated streets
    with six months of history, and the demo street (2 communities, grids, buildings, staff,
    secretaries, 20 members from 3 home units, residents) with a request in every state."""
    from workflow import demo as demo_data
    from workflow import migrate

    settings = _settings()
    migrate.upgrade(settings.database_url)
    if not _seed_demo(settings, demo_data):
        raise click.ClickException("the database already holds data; the demo seeds only an empty one")
    click.echo(demo_data.accounts_text())


@main.group("open311-client")
def open311_client() -> None:
    """Open311 clients (city apps, hotlines) and their api keys."""


@contextmanager
def _session():
    """A unit of work on the configured database, migrated first; a refusal becomes a clean error."""
    from workflow import migrate
    from workflow.db import make_engine, make_session_factory, unit_of_work
    from workflow.errors import DomainError

    settings = _settings()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message.render('en')}") from exc
    finally:
        engine.dispose()


def _when(moment, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes") if moment else "-"


@open311_client.command("issue")
@click.argument("name")
def open311_client_issue(name: str) -> None:
    """Issue an api key to a new client called NAME. The key is printed once, now: only its SHA-256
    is stored."""
    from workflow.commands import clients

    with _session() as session:
        client, key = clients.issue(session, None, name)
        client_id, client_name = client.id, client.name
    click.echo(f"issued Open311 client {client_id} ({client_name})")
    click.echo(f"api_key: {key}")
    click.echo("Hand this key over now: it is not shown again.", err=True)


@open311_client.command("list")
def open311_client_list() -> None:
    """Every client: id, name, key prefix, created, last used, revoked, requests filed."""
    from workflow.commands import clients

    zone = _settings().timezone
    with _session() as session:
        rows = [(c.id, c.name, c.key_prefix, _when(c.created_at, zone), _when(c.last_used_at, zone),
                 _when(c.revoked_at, zone), n) for c, n in clients.catalogue(session, None)]
    if not rows:
        click.echo("no Open311 clients yet; issue one with `shoubanping open311-client issue NAME`")
        return
    click.echo("\t".join(("id", "name", "key", "created", "last used", "revoked", "requests")))
    for client_id, name, prefix, created, used, revoked, n in rows:
        click.echo(f"{client_id}\t{name}\t{prefix}…\t{created}\t{used}\t{revoked}\t{n}")


@open311_client.command("revoke")
@click.argument("client_id", metavar="ID", type=click.IntRange(1, 2_147_483_647))
def open311_client_revoke(client_id: int) -> None:
    """Revoke client ID's key at once. The requests it filed stay."""
    from workflow.commands import clients

    with _session() as session:
        client = clients.revoke(session, None, client_id)
        name = client.name
    click.echo(f"revoked Open311 client {client_id} ({name})")


@main.group("household")
def household() -> None:
    """The register of households (住户): add, pair with a member, list."""


def _community_by_code(session, code: str):
    from sqlalchemy import select

    from workflow.models import Community

    community = session.scalar(select(Community).where(Community.code == code))
    if community is None:
        raise click.ClickException(f"no community with the code {code}")
    return community


@household.command("add")
@click.option("--community", "community_code", required=True, help="The community's code, e.g. HP.")
@click.option("--building", required=True, help="The building's name in that community, e.g. 1号楼.")
@click.option("--code", required=True, help="The household's stable code, unique in the community.")
@click.option("--door", required=True, help="Unit and room, e.g. 2单元301.")
@click.option("--tag", "tags", multiple=True, help="A household tag (party_member, needy, ...); repeatable.")
@click.option("--contact-name", default="")
@click.option("--contact-phone", default="")
def household_add(community_code, building, code, door, tags, contact_name, contact_phone) -> None:
    """Add a household to a building."""

    from workflow.access import Actor
    from workflow.visits import commands

    settings = _settings()
    with _session() as session:
        community = _community_by_code(session, community_code)
        row = _building_named(session, community, building)
        created = commands.create_household(session, Actor(role=commands.OPERATOR), {
            "building_id": row.id, "code": code, "door": door, "tags": list(tags), "contact_name": contact_name,
            "contact_phone": contact_phone}, timezone=settings.timezone)
        household_id = created.id
    click.echo(f"added household {household_id} ({community_code} {code}, {building} {door})")


def _building_named(session, community, name: str):
    from sqlalchemy import select

    from workflow.models import Building

    row = session.scalar(select(Building).where(Building.community_id == community.id, Building.name == name))
    if row is None:
        raise click.ClickException(f"no building {name} in {community.name}")
    return row


def _member_id_of(session, username: str) -> int:
    from sqlalchemy import select

    from workflow.models import Account, Member

    member_id = session.scalar(select(Member.id).join(Account, Account.id == Member.account_id)
                               .where(Account.username == username))
    if member_id is None:
        raise click.ClickException(f"no member {username}")
    return member_id


@household.command("pair")
@click.option("--community", "community_code", required=True)
@click.option("--code", required=True, help="The household's code.")
@click.option("--member", "username", required=True, help="The member's username.")
def household_pair(community_code, code, username) -> None:
    """Pair a member registered with the community with a household (联户), from today."""

    from workflow.access import Actor
    from workflow.visits import commands
    from workflow.visits import repository as repo

    settings = _settings()
    with _session() as session:
        community = _community_by_code(session, community_code)
        household = repo.household_by_code(session, community.id, code)
        if household is None:
            raise click.ClickException(f"no household {code} in {community.name}")
        member_id = _member_id_of(session, username)
        commands.pair_member(session, Actor(role=commands.OPERATOR), household.id, member_id,
                             timezone=settings.timezone)
    click.echo(f"{username} looks after {community_code} {code} from today")


@household.command("center")
@click.option("--community", "community_code", required=True)
@click.option("--building", required=True, help="The building's name in that community, e.g. 1号楼.")
@click.option("--member", "username", required=True, help="The member's username.")
def household_center(community_code, building, username) -> None:
    """Name a member registered with the community the building's party-member center household
    (党员中心户) from today; the one before hands over."""

    from workflow.access import Actor
    from workflow.visits import commands

    settings = _settings()
    with _session() as session:
        community = _community_by_code(session, community_code)
        row = _building_named(session, community, building)
        member_id = _member_id_of(session, username)
        commands.appoint_center_household(session, Actor(role=commands.OPERATOR), row.id, member_id,
                                          timezone=settings.timezone)
    click.echo(f"{username} is the center household of {community_code} {building} from today")


@household.command("list")
@click.option("--community", "community_code", required=True)
def household_list(community_code) -> None:
    """The community's households: code, building, door, tags, contact (masked)."""
    from workflow.access import Actor
    from workflow.visits import views

    with _session() as session:
        community = _community_by_code(session, community_code)
        rows = views.list_households(session, Actor(role="admin"), community.id, limit=500)
    if not rows:
        click.echo(f"no households in {community_code} yet; add one with `shoubanping household add`")
        return
    click.echo("\t".join(("id", "code", "building", "door", "tags", "contact")))
    for r in rows:
        click.echo(f"{r['id']}\t{r['code']}\t{r['building']}\t{r['door']}\t{','.join(r['tags'])}\t"
                   f"{r['contact_name']} {r['contact_phone']}".rstrip())


@main.command("create-account")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
# Not ``client``: an Open311 client's account comes with its key (`open311-client issue`).
@click.option("--role", type=click.Choice(["resident", "staff", "member", "street_officer", "secretary", "admin"]),
              required=True)
@click.option("--community-id", type=int, default=None)
@click.option("--street-id", type=int, default=None)
@click.option("--unit-id", type=int, default=None)
@click.password_option(help="Prompted for when not given.")
def create_account(username, display_name, role, community_id, street_id, unit_id, password) -> None:
    """Create an account, for example the first administrator."""
    from workflow.access import Actor
    from workflow.commands import accounts
    from workflow.db import make_engine, make_session_factory, unit_of_work
    from workflow.errors import DomainError

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            account = accounts.create_account(
                session, username=username, password=password, display_name=display_name, role=role,
                community_id=community_id, street_id=street_id, unit_id=unit_id, by=Actor(role="operator"),
            )
            click.echo(f"created {account.role.value} {account.username} (id {account.id})")
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message.render('en')}") from exc
    finally:
        engine.dispose()


@main.command("simulate")
@click.option("--seed", default=1, show_default=True, type=int,
              help="The same seed, shape and --until give the same rows.")
@click.option("--streets", default=4, show_default=True, type=click.IntRange(1, 5000), help="Street offices.")
@click.option("--months", default=3, show_default=True, type=click.IntRange(1, 120), help="Months of requests.")
@click.option("--requests", "requests_", default=None, type=click.IntRange(0),
              help="Requests over the months [default: Beijing's rate, 175 a street a day].")
@click.option("--until", default=None, help="When the simulation ends, ISO 8601 [default: now].")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Processes simulating at once on PostgreSQL [default: one per core]; the rows do not depend on it.")
@click.option("--database-url", default=None, help="Database to fill [default: SHOUBANPING_DATABASE_URL].")
def simulate_command(seed, streets, months, requests_, until, workers, database_url) -> None:
    """Fill an empty database with a simulated city (streets, communities, grids, buildings, home units,
    members with zones, residents) and months of its requests through every route and outcome, each
    with a history the lifecycle replays. Every account's password is printed at the end."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from workflow import migrate
    from workflow.db import make_engine, make_session_factory, unit_of_work
    from workflow.simulate import CityShape, simulate

    settings = _settings(**({"database_url": database_url} if database_url else {}))
    try:
        shape = CityShape(streets=streets, months=months, requests=requests_)
        end = datetime.fromisoformat(until) if until else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=ZoneInfo(settings.timezone))
    migrate.upgrade(settings.database_url)
    shown = [0]

    def progress(done: int, total: int) -> None:
        if done * 20 // max(total, 1) > shown[0] or done == total:
            shown[0] = done * 20 // max(total, 1)
            click.echo(f"  {done}/{total} requests", err=True)

    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            report = simulate(session, settings, seed=seed, shape=shape, now=end, workers=workers, progress=progress)
            if report is None:
                raise click.ClickException("the database already holds data; simulate fills only an empty one")
    finally:
        engine.dispose()
    click.echo(report.text())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
