"""Backup and restore of the whole database (docs/backup.md).

SQLite: SQLite's online backup API (Python's sqlite3 Connection.backup). A backup is copied in one
step, inside one read transaction of the source: a consistent snapshot of every committed request,
taken while the app goes on serving and writing (WAL lets writers carry on beside the reader). The
copy is written beside DEST, checked, synced and renamed into place, so DEST is a whole backup or
absent. A restore checks the file first (SQLite, intact, a hotline schema at a revision this code
knows) and then copies it into the live database with the same API, under the live file's write
lock: readers see the old database or the new one, never a mix.

PostgreSQL: pg_dump --format=custom (a consistent snapshot as well: pg_dump reads in one
repeatable-read transaction) and pg_restore --clean --if-exists --single-transaction (all or
nothing). The tools must be of the server's major version or newer; they are looked up in --pg-bin
(HOTLINE_PG_BIN), /usr/lib/postgresql/<server major>/bin, then PATH.

Before overwriting a database that holds a hotline schema, restore first backs it up beside the
backup being restored (before-restore-<time>.<ext>), unless told not to.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from hotline import clock
from hotline.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables without which a file is not a hotline database, whatever its alembic_version says.
CORE_TABLES = ("alembic_version", "hotline_case", "case_event", "user_account")
PG_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""

    def __init__(self, message: str, changed: bool = False):
        super().__init__(message)
        self.message = message
        self.changed = changed  # True only when a restore ran and its result is not what it should be


@dataclass
class Outcome:
    path: Path
    backend: str
    revisions: tuple[str, ...]
    cases: int | None = None
    size: int = 0
    safety_copy: Path | None = None
    notes: list[str] = field(default_factory=list)
    source: Path | None = None  # restore: the backup that was restored into `path`


# ---------------------------------------------------------------- shared


def _url() -> URL:
    return db.engine.url


def backend() -> str:
    name = _url().get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups are made for SQLite and PostgreSQL, not {name}")
    return name


def _known_revisions() -> tuple[set[str], set[str]]:
    """(every revision the migrations define, the heads) of this version of the code."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
    return {rev.revision for rev in scripts.walk_revisions()}, set(scripts.get_heads())


def check_revisions(found: set[str], what: str) -> list[str]:
    """Refuse a database whose schema revision this code does not know; notes for one that is behind."""
    known, heads = _known_revisions()
    if not found:
        raise BackupError(f"{what} is not a hotline backup: its alembic_version table is empty")
    unknown = sorted(found - known)
    if unknown:
        raise BackupError(f"{what} is at schema revision {', '.join(unknown)}, which this version of the code "
                          f"does not know (it expects {', '.join(sorted(heads))}): it comes from another "
                          "application or a newer release. Restore it with the release that made it.")
    if found != heads:
        return [f"the backup's schema ({', '.join(sorted(found))}) is older than this code's "
                f"({', '.join(sorted(heads))}): run `flask --app wsgi db upgrade heads` after the restore"]
    return []


def _revision_notes(found: set[str]) -> list[str]:
    """A backup is made whatever the schema revision (it never hurts); a surprising one is reported."""
    _known, heads = _known_revisions()
    if found == heads:
        return []
    return [f"the database is at schema revision {', '.join(sorted(found)) or '(none)'}, not this code's "
            f"{', '.join(sorted(heads))}: run `flask --app wsgi db upgrade heads` if the code is newer"]


def _fresh_name(directory: Path, suffix: str, prefix: str = "hotline") -> Path:
    stamp = clock.to_local(clock.wall()).strftime("%Y%m%d-%H%M%S")
    path = directory / f"{prefix}-{stamp}{suffix}"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{prefix}-{stamp}-{n}{suffix}"
    return path


def _destination(dest: str | os.PathLike, suffix: str, force: bool) -> Path:
    path = Path(dest).expanduser()
    if path.is_dir():
        return _fresh_name(path, suffix)
    if path.exists() and not force:
        raise BackupError(f"{path} exists; choose another name, a directory, or pass --force to replace it")
    if not path.parent.is_dir():
        raise BackupError(f"the directory {path.parent} does not exist")
    return path


def _safety_name(src: Path, suffix: str) -> Path:
    directory = src.resolve().parent
    if not os.access(directory, os.W_OK):
        raise BackupError(f"cannot keep a copy of the current database in {directory} (not writable): "
                          "copy the backup somewhere writable, or pass --no-safety-copy")
    return _fresh_name(directory, suffix, "before-restore")


def _part(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def _private_part(path: Path) -> Path:
    """The part file, created empty and readable by its owner only (0600) before any byte is written:
    a backup holds every caller's number and story, whatever the umask says."""
    part = _part(path)
    part.unlink(missing_ok=True)
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return part


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(part: Path, path: Path) -> None:
    """Make the finished, checked file appear under its name in one rename."""
    os.chmod(part, 0o600)  # whatever the tool that wrote it did
    _fsync(part)
    os.replace(part, path)
    _fsync(path.parent, directory=True)


def _release_connections() -> None:
    """The CLI's own session must hold no transaction or lock while the database is replaced."""
    db.session.rollback()
    db.session.close()
    db.engine.dispose()


def backup(dest: str | os.PathLike, force: bool = False, pg_bin: str | None = None) -> Outcome:
    """Back the configured database up to DEST (a file, or a directory to put a dated file in)."""
    if backend() == "sqlite":
        return _sqlite_backup(_destination(dest, ".sqlite3", force))
    return _pg_backup(_destination(dest, ".dump", force), pg_bin)


def restore(src: str | os.PathLike, safety_copy: bool = True, pg_bin: str | None = None) -> Outcome:
    """Replace the configured database by the backup SRC, after checking that SRC is one."""
    path = Path(src).expanduser()
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    if backend() == "sqlite":
        return _sqlite_restore(path, safety_copy)
    return _pg_restore(path, safety_copy, pg_bin)


# ---------------------------------------------------------------- SQLite


def _sqlite_live_path() -> Path:
    database = _url().database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the SQLite database must be a file given by its path")
    return Path(database)


def _sqlite_open(path: Path, mode: str) -> sqlite3.Connection:
    """mode "rw": an existing database, never created by accident; "ro": a file nobody writes (a backup)."""
    options = "mode=rw" if mode == "rw" else "mode=ro&immutable=1"
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?{options}", uri=True, timeout=30)


def _sqlite_facts(conn: sqlite3.Connection, what: str) -> tuple[set[str], int]:
    """(revisions, number of cases) of an intact hotline database; BackupError otherwise."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise BackupError(f"{what} is damaged: {'; '.join(problems)}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in CORE_TABLES if t not in tables]
        if missing:
            raise BackupError(f"{what} is not a hotline backup: it has no {', '.join(missing)} table"
                              f"{'s' if len(missing) > 1 else ''}")
        revisions = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        cases = conn.execute("SELECT count(*) FROM hotline_case").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{what} is not a readable SQLite database ({err})") from None
    return revisions, cases


def _sqlite_backup(path: Path) -> Outcome:
    live = _sqlite_live_path()
    if not live.is_file():
        raise BackupError(f"there is no database at {live}")
    part = _private_part(path)
    try:
        source = _sqlite_open(live, "rw")
        copy = sqlite3.connect(part)
        try:
            # pages=-1: everything in one step, in one read transaction of the source, so the copy
            # is the database as of one moment; writers go on meanwhile (WAL).
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            revisions, cases = _sqlite_facts(copy, "the new backup")
        finally:
            copy.close()
            source.close()
        notes = _revision_notes(revisions)
        _publish(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return Outcome(path, "sqlite", tuple(sorted(revisions)), cases, path.stat().st_size, notes=notes)


def _sqlite_is_hotline(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = _sqlite_open(path, "rw")
    try:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is not None
    except sqlite3.DatabaseError as exc:  # a damaged live file: say so, don't print a traceback
        raise BackupError(f"{path} cannot be read as an SQLite database: {exc}") from exc
    finally:
        conn.close()


def check_sqlite_backup(path: Path) -> tuple[set[str], int, list[str]]:
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a hotline backup: not an SQLite database file")
    conn = _sqlite_open(path, "ro")
    try:
        revisions, cases = _sqlite_facts(conn, str(path))
    finally:
        conn.close()
    return revisions, cases, check_revisions(revisions, str(path))


def _sqlite_restore(src: Path, safety_copy: bool) -> Outcome:
    live = _sqlite_live_path()
    if src.resolve() == live.resolve():
        raise BackupError(f"{src} is the live database itself")
    revisions, cases, notes = check_sqlite_backup(src)
    _release_connections()
    safety = None
    if safety_copy and _sqlite_is_hotline(live):
        safety = _sqlite_backup(_safety_name(src, ".sqlite3")).path
    live.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_open(src, "ro")
    target = sqlite3.connect(live, timeout=30)
    try:
        try:
            # One step under the live database's write lock: other connections see all of the old
            # database or all of the backup. A failure part-way leaves the old one (it rolls back).
            source.backup(target, pages=-1)
        except sqlite3.Error as err:
            raise BackupError(f"the restore into {live} failed: {err}") from None
        restored: tuple[set[str], int] | str
        try:
            restored = _sqlite_facts(target, "the restored database")
        except BackupError as err:
            restored = err.message
    finally:
        target.close()
        source.close()
    if restored != (revisions, cases):
        raise BackupError(f"the restored database is not what {src} holds ({restored}): check {live}"
                          + (f"; the previous database is in {safety}" if safety else ""), changed=True)
    return Outcome(live, "sqlite", tuple(sorted(revisions)), cases, live.stat().st_size, safety, notes, src)


# ---------------------------------------------------------------- PostgreSQL


def _libpq() -> tuple[str, dict[str, str]]:
    """The connection as the PostgreSQL tools take it: a URI without the password, which goes in PGPASSWORD."""
    url = _url()
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _server_major() -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out) or re.search(r"(\d+)(?:\.\d+)*\s*$", out.strip())
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, server_major: int, pg_bin: str | None = None) -> str:
    """The pg_dump/pg_restore to use: of the server's major version or newer (older ones refuse or lose data)."""
    if pg_bin:
        candidates = [str(Path(pg_bin) / name)]
    else:
        candidates = [f"/usr/lib/postgresql/{server_major}/bin/{name}"]
        on_path = shutil.which(name)
        if on_path:
            candidates.append(on_path)
        others = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
                        reverse=True)
        candidates += [str(p) for p in others]
    seen: list[str] = []
    for candidate in candidates:
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        major = _tool_major(candidate)
        if major is not None and major >= server_major:
            return candidate
        seen.append(f"{candidate} (version {major})")
    where = f"in {pg_bin}" if pg_bin else "in /usr/lib/postgresql/*/bin or on PATH"
    if seen:
        raise BackupError(f"{name} is too old for this PostgreSQL {server_major} server: found only "
                          f"{', '.join(seen)}. Install the PostgreSQL {server_major} client tools "
                          f"(Debian/Ubuntu: postgresql-client-{server_major}) or pass --pg-bin DIR.")
    raise BackupError(f"{name} was not found {where}. Install the PostgreSQL {server_major} client tools "
                      f"(Debian/Ubuntu: postgresql-client-{server_major}) or pass --pg-bin DIR.")


def _run(args: list[str], env: dict[str, str] | None = None, what: str = "") -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=PG_TIMEOUT)
    except OSError as err:
        raise BackupError(f"could not run {args[0]}: {err}") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"{Path(args[0]).name} took longer than {PG_TIMEOUT // 3600} hours and was stopped") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what or Path(args[0]).name} failed: " + ("; ".join(detail[-5:]) or f"exit {done.returncode}"))
    return done.stdout


def _archive_facts(pg_restore: str, path: Path) -> tuple[set[str], set[str]]:
    """(revisions, tables) of a pg_dump custom-format archive, read without restoring it."""
    try:
        listing = _run([pg_restore, "--list", str(path)], what="reading the archive")
    except BackupError:
        raise BackupError(f"{path} is not a hotline backup: not a pg_dump archive in custom format "
                          "(made by `hotline backup` or `pg_dump -Fc`)") from None
    tables = {m.group(1) for m in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.M)}
    missing = [t for t in CORE_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{path} is not a hotline backup: it has no {', '.join(missing)} table"
                          f"{'s' if len(missing) > 1 else ''}")
    data = _run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)],
                what="reading the archive's schema revision")
    match = re.search(r"^COPY \S*alembic_version .*? FROM stdin;\n(.*?)^\\\.$", data, re.M | re.S)
    revisions = {line.strip() for line in (match.group(1) if match else "").splitlines() if line.strip()}
    return revisions, tables


def _pg_backup(path: Path, pg_bin: str | None) -> Outcome:
    major = _server_major()
    pg_dump = find_pg_tool("pg_dump", major, pg_bin)
    pg_restore = find_pg_tool("pg_restore", major, pg_bin)
    uri, env = _libpq()
    part = _private_part(path)
    try:
        # The case count and the dump see the same moment: pg_dump takes the snapshot this transaction
        # exports, which stays open until the dump is done.
        with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            cases = conn.execute(text("SELECT count(*) FROM hotline_case")).scalar_one()
            # --format=custom: compressed, and pg_restore can pick it apart (and --clean) later.
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={part}", f"--dbname={uri}"],
                 env, "pg_dump")
        revisions, _tables = _archive_facts(pg_restore, part)
        notes = _revision_notes(revisions)
        _publish(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return Outcome(path, "postgresql", tuple(sorted(revisions)), cases, path.stat().st_size, notes=notes)


def _pg_restore(src: Path, safety_copy: bool, pg_bin: str | None) -> Outcome:
    major = _server_major()
    pg_restore = find_pg_tool("pg_restore", major, pg_bin)
    revisions, tables = _archive_facts(pg_restore, src)
    notes = check_revisions(revisions, str(src))
    live_tables = set(inspect(db.engine).get_table_names())
    # --clean drops only what the archive holds: a table of a newer schema would survive beside an
    # older backup's alembic_version, and the upgrade after it would fail. Refuse rather than mix.
    extra = sorted(live_tables - tables)
    if extra:
        raise BackupError(f"the database has tables the backup does not ({', '.join(extra)}): it is from an older "
                          "schema. Restore it into an empty database, then run `flask --app wsgi db upgrade heads`.")
    safety = None
    if safety_copy and "alembic_version" in live_tables:
        safety = _pg_backup(_safety_name(src, ".dump"), pg_bin).path
    _release_connections()
    uri, env = _libpq()
    # All or nothing: one transaction, stopped at the first error. --no-owner: the objects belong to
    # the configured user, whoever owned them where the backup was made.
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={uri}", str(src)], env, "pg_restore (nothing was changed)")
    with db.engine.connect() as conn:
        restored = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        cases = conn.execute(text("SELECT count(*) FROM hotline_case")).scalar_one()
    if restored != revisions:
        raise BackupError(f"the restored database is at revision {', '.join(sorted(restored))}, "
                          f"not {', '.join(sorted(revisions))}"
                          + (f"; the previous database is in {safety}" if safety else ""), changed=True)
    return Outcome(Path(_url().database or ""), "postgresql", tuple(sorted(revisions)), cases, src.stat().st_size,
                   safety, notes, src)
