"""PgBouncer (Debian's ``pgbouncer``) in transaction mode in front of a PostgreSQL, for dev, tests and benches.

With a certificate it requires TLS from clients (``sslmode=verify-full`` on their side): the
embedded PostgreSQL wheel is built without SSL, so PgBouncer is where the link is encrypted.

Services keep no session state on a pooled connection: transactions are explicit, locks are
``pg_advisory_xact_lock``, and the one session-level user (``shared.migrate``'s advisory lock) runs
on ``DATABASE_DIRECT_URL``. The client's ``options`` startup parameter (our pools send
``statement_timeout`` in it) is ignored by PgBouncer and set per server connection instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devtools.devservers import PG_SYSTEM_USER, free_port, pid_alive, wait_port


def pgbouncer_path() -> str:
    """The pgbouncer binary (Debian package ``pgbouncer``)."""
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
    if not found:
        raise RuntimeError("no pgbouncer binary: install Debian's pgbouncer")
    return found


class PgBouncer:
    """A pgbouncer process pooling every database of ``upstream_url``'s server in transaction mode."""

    def __init__(self, data_dir: Path, upstream_url: str, *, port: int | None = None, pool_size: int = 20,
                 max_client_conn: int = 10000, statement_timeout_ms: int = 30000,
                 tls_cert: Path | None = None, tls_key: Path | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.upstream = urlsplit(upstream_url)
        self.port = port or free_port()
        self.pool_size = pool_size
        self.max_client_conn = max_client_conn
        self.statement_timeout_ms = statement_timeout_ms
        self.tls = (tls_cert, tls_key) if tls_cert and tls_key else None
        self.proc: subprocess.Popen[bytes] | None = None

    def url_for(self, database_url: str) -> str:
        """``database_url`` (a database on the upstream server) reached through this PgBouncer."""
        parts = urlsplit(database_url)
        netloc = f"{parts.username}@127.0.0.1:{self.port}" if parts.username else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def config(self) -> str:
        """pgbouncer.ini: a wildcard database entry, transaction pooling, trust auth on loopback."""
        user = self.upstream.username or "postgres"
        return "\n".join([
            "[databases]",
            f"* = host={self.upstream.hostname} port={self.upstream.port or 5432} user={user} "
            f"connect_query='SET statement_timeout = {self.statement_timeout_ms}'",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {self.data_dir / 'userlist.txt'}",
            "admin_users = " + user,
            "pool_mode = transaction",
            f"default_pool_size = {self.pool_size}",
            f"max_client_conn = {self.max_client_conn}",
            f"max_db_connections = {self.pool_size}",
            "ignore_startup_parameters = options,extra_float_digits",
            "server_reset_query =",
            "server_check_delay = 10",
            "log_connections = 0",
            "log_disconnections = 0",
            *(["client_tls_sslmode = require", f"client_tls_cert_file = {self.tls[0]}",
               f"client_tls_key_file = {self.tls[1]}"] if self.tls else []),
            f"logfile = {self.data_dir / 'pgbouncer.log'}",
            f"pidfile = {self.data_dir / 'pgbouncer.pid'}",
            "",
        ])

    def start(self) -> None:
        """Write the config and start pgbouncer (as the PostgreSQL system user when root)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self.upstream.username or "postgres"
        (self.data_dir / "userlist.txt").write_text(f'"{user}" ""\n')
        ini = self.data_dir / "pgbouncer.ini"
        ini.write_text(self.config())
        cmd = [pgbouncer_path(), str(ini)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            for path in (self.data_dir, *self.data_dir.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            for path in self.data_dir.parents:
                if path.stat().st_mode & 0o011 != 0o011:
                    path.chmod(path.stat().st_mode | 0o011)
            cmd = [pgbouncer_path(), "-u", PG_SYSTEM_USER, str(ini)]
        # Each client socket is a file descriptor: raise the soft limit for 10,000 clients.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=_raise_nofile)
        try:
            wait_port("127.0.0.1", self.port)
        except TimeoutError:
            self.stop()
            log = self.data_dir / "pgbouncer.log"
            raise RuntimeError(f"pgbouncer did not start: {log.read_text()[-1500:] if log.exists() else ''}") from None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and pid_alive(self.proc.pid) else None

    def stop(self) -> None:
        """SIGTERM (pgbouncer exits at once), then SIGKILL after 5 s; reaps the child."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def _raise_nofile() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
