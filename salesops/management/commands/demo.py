"""The main job: set up, run the three SOPs via the queue, summarise, serve.

On the built-in local CRM it loads the sample data first. When SALESOPS_CONNECTION names
another connection (e.g. `hubspot` or `salesforce`, defined by HUBSPOT_* or SALESFORCE_*
variables), it loads nothing: it
checks and provisions that connection (`connection_check --provision`), syncs it
(`sync_crm`), and runs the SOPs over its records.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_q.conf import Conf
from tqdm import tqdm

from connectors.local.sample import sample_data_load
from salesops.management.commands.demo_summary import (
    DEMO_SOPS,
    review_lines,
    summary_rows,
    summary_table,
)
from salesops.management.commands.load_sops import report_lines
from salesops.models import Connection
from salesops.selectors import runs_wait
from salesops.services.batches import records_select, runs_start, sop_get
from salesops.services.connections import LOCAL_SLUG, connection_get
from salesops.services.connections_env import ConnectionEnvError, connections_env_apply
from salesops.services.credentials import CredentialsError
from salesops.services.schedules import schedules_install
from salesops.services.sops import LibraryLoadReport, library_dir, sop_library_load
from salesops.services.workers import web_start, web_stop, worker_start, worker_stop


class Command(BaseCommand):
    help = (
        "Migrate, load SOPs and the sample data (or check, provision and sync the connection "
        "SALESOPS_CONNECTION names), run every SOP via the queue, summarise, serve."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="exit after the summary")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="where to serve the admin")
        parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for runs")

    def handle(self, *args: Any, **opts: Any) -> None:
        out = self.stdout
        call_command("migrate", interactive=False, verbosity=0)
        # The admin's CSS and scripts, for WhiteNoise to serve: the admin is styled out of the box.
        call_command("collectstatic", interactive=False, verbosity=0)
        report = sop_library_load()
        for issue in report.issues:
            out.write(self.style.WARNING(f"library: {issue}"))
        out.write(self._library_summary(report))
        connection = self._connection()
        if connection.slug == LOCAL_SLUG:
            counts = sample_data_load(library_dir() / "sample_data" / "crm.json")
            out.write("sample CRM: " + ", ".join(f"{n} {k} added" for k, n in counts.items()))
        else:
            self._connection_prepare(connection)
        username, password = self._admin_login()
        schedules_install()
        worker = self._start_worker()
        try:
            self._run_all(opts["timeout"], connection)
            out.write(f"\nadmin: http://{opts['addr']}/admin/  login: {username} / {password}")
            if not opts["no_serve"]:
                hook = f"/webhooks/{connection.kind}/{connection.slug}/"
                out.write(f"webhooks: http://{opts['addr']}{hook}  (Ctrl-C to stop)")
                self._serve(opts["addr"])
        finally:
            if worker is not None:
                worker_stop(worker)

    def _connection(self) -> Connection:
        """The connection SALESOPS_CONNECTION names, after the environment's are applied."""
        try:
            connections_env_apply()
        except (ConnectionEnvError, CredentialsError) as exc:
            raise CommandError(str(exc)) from None
        slug = settings.SALESOPS["CONNECTION"]
        if slug == LOCAL_SLUG:
            return connection_get(LOCAL_SLUG)
        try:
            return connection_get(slug)
        except Connection.DoesNotExist:
            known = ", ".join(Connection.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"SALESOPS_CONNECTION={slug!r} names no connection (known: {known}); set "
                "HUBSPOT_ACCESS_TOKEN (and HUBSPOT_CONNECTION_SLUG), a Salesforce sign-in such "
                "as SALESFORCE_CONSUMER_KEY + SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY (and "
                "SALESFORCE_CONNECTION_SLUG), or add it in admin"
            ) from None

    def _connection_prepare(self, connection: Connection) -> None:
        """Check and provision a CRM connection, then sync its records into the mirror."""
        self.stdout.write(f"connection: {connection.slug} ({connection.kind}); no sample data")
        try:
            call_command("connection_check", connection.slug, provision=True, stdout=self.stdout)
        except CommandError as exc:
            raise CommandError(
                f"{exc}: the check above says what blocks runs and how to fix it; then run "
                f"`manage.py connection_check {connection.slug} --provision` again"
            ) from None
        try:
            call_command(
                "sync_crm", connection=connection.slug, no_progress=True, stdout=self.stdout
            )
        except CommandError as exc:
            raise CommandError(
                f"{exc}; retry with `manage.py sync_crm --connection {connection.slug}`"
            ) from None

    def _serve(self, addr: str) -> None:
        """Serve with gunicorn, as production does, until Ctrl-C (or SIGTERM)."""
        web = web_start(addr=addr)
        # `kill` of this command stops gunicorn and the worker too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            code = web.wait()
        except KeyboardInterrupt:
            return  # the terminal's Ctrl-C reached gunicorn too; `finally` waits for it
        finally:
            web_stop(web)
        if code:
            raise CommandError(f"gunicorn exited with status {code} (is {addr} already in use?)")

    def _library_summary(self, report: LibraryLoadReport) -> str:
        """One line of counts, then the load_sops line of everything that did not stay as it was."""
        labels = {
            "published": "published from the library",
            "draft": "stored as a draft (a version published in admin stays active)",
            "kept": "kept the version published in admin",
            "unchanged": "unchanged",
        }
        counts = [f"{len(report.sops_in(s))} {label}" for s, label in labels.items()]
        summary = "SOPs: " + ", ".join(c for c in counts if not c.startswith("0 "))
        styles = {"success": self.style.SUCCESS, "warning": self.style.WARNING}
        notes = [styles.get(lv, str)(line) for lv, line in report_lines(report) if lv != "quiet"]
        return "\n".join([summary, *notes])

    def _admin_login(self) -> tuple[str, str]:
        # One password per checkout, kept beside the database so a second run prints the same one.
        path = Path(settings.BASE_DIR) / ".admin_password"
        password = os.environ.get("SALESOPS_ADMIN_PASSWORD") or (
            path.read_text().strip() if path.exists() else secrets.token_urlsafe(12)
        )
        if not path.exists():
            path.write_text(password)
            path.chmod(0o600)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if not user.check_password(password):
            user.set_password(password)
            user.save()
        return "admin", password

    def _start_worker(self) -> subprocess.Popen[bytes] | None:
        if Conf.SYNC:  # django-q2 runs tasks inline (Q_CLUSTER sync): nothing to start
            return None
        worker = worker_start()
        time.sleep(0.5)
        if worker.poll() is not None:
            raise CommandError("the django-q2 worker (qcluster) exited at start; see its output")
        return worker

    def _run_all(self, timeout: float, connection: Connection) -> None:
        all_ids: list[int] = []
        new_total = 0
        for name in DEMO_SOPS:
            sop = sop_get(name=name)
            runs, new = runs_start(
                sop=sop,
                record_ids=records_select(sop=sop, connection=connection),
                batch="demo",
                connection=connection,
            )
            all_ids += [r.pk for r in runs]
            new_total += new
        earlier = len(all_ids) - new_total
        self.stdout.write(
            f"runs: {new_total} queued on the {'Redis' if settings.REDIS_URL else 'ORM'} broker"
            + (f"; {earlier} ran before and are not run again" if earlier else "")
        )
        with tqdm(total=len(all_ids), desc="runs", unit="run", file=self.stderr._out) as bar:
            done = runs_wait(all_ids, timeout=timeout, on_progress=lambda n: bar.update(n - bar.n))
        if not done:
            raise CommandError(f"runs still pending after {timeout:.0f}s; see admin > Runs")
        self._print_summary(all_ids)

    def _print_summary(self, run_ids: list[int]) -> None:
        # Columns and their meanings: demo_summary.py.
        self.stdout.write("\n" + summary_table(summary_rows(run_ids)))
        waiting = review_lines(run_ids)
        if waiting:
            self.stdout.write("\nwaiting for review (admin > Escalations):")
            self.stdout.write("\n".join(waiting))
