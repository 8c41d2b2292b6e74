"""Run the Salesforce emulator for humans: the sample CRM as a Salesforce org on a fixed port.

It imports the test suite's emulator (`tests/emulators/salesforce_api.py`, on the emulator
framework in `tests/emulators/framework/`), so it needs the test dependencies that `make run`
installs. The org is seeded from `sop_library/sample_data/crm.json`, serves HTTPS with a
throwaway CA, runs on the wall clock and enforces the daily API limit; it prints where it runs,
the JWT bearer credentials (the private key goes to a file) and serves until Ctrl-C. State lives
in memory: a restart starts from the sample data again.

    .venv/bin/python scripts/salesforce_emulator.py                # port 8766
    .venv/bin/python scripts/salesforce_emulator.py --port 9001 --daily-limit 15000
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python scripts/salesforce_emulator.py` from anywhere

from tests.emulators.framework import SystemClock  # noqa: E402
from tests.emulators.salesforce_api import ORG_ID, SalesforceEmulator  # noqa: E402

PORT = 8766


def emulator_start(*, port: int = PORT, daily_limit: int = 100_000) -> SalesforceEmulator:
    """The emulator serving one org seeded with the sample data, on the wall clock."""
    emu = SalesforceEmulator(seed=True, clock=SystemClock(), daily_limit=daily_limit)
    try:
        return emu.start(port=port)
    except OSError as exc:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port} ({exc}); try --port") from None


def key_file(emu: SalesforceEmulator) -> Path:
    """The connected app's private key, written to a file only this user can read."""
    handle, name = tempfile.mkstemp(prefix="salesforce-emulator-key-", suffix=".pem")
    with os.fdopen(handle, "w") as out:
        out.write(emu.private_key_pem)
    return Path(name)


def banner(emu: SalesforceEmulator, key_path: Path) -> str:
    """What to tell the human: where it runs, what it holds, the variables to set."""
    store = emu.org()
    held = ", ".join(
        f"{len(store.rows(o))} {o}" for o in ("Account", "Contact", "Lead", "Opportunity")
    )
    return "\n".join(
        [
            f"Salesforce emulator on {emu.base_url}: org {ORG_ID} with {held}",
            "",
            f"  base URL (login and instance): {emu.base_url}",
            f"  CA bundle (trust it):          {emu.ca_path}",
            f"  consumer key:                  {emu.consumer_key}",
            f"  username:                      {emu.username}",
            f"  private key file:              {key_path}",
            "",
            "Or with a refresh token:",
            f"  client id: {emu.client_id}  client secret: {emu.client_secret}",
            f"  refresh token: {emu.refresh_token()}",
            "",
            "Ctrl-C to stop.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, default=PORT, help=f"default {PORT}")
    parser.add_argument("--daily-limit", type=int, default=100_000)
    args = parser.parse_args(argv)
    emu = emulator_start(port=args.port, daily_limit=args.daily_limit)
    key_path = key_file(emu)
    print(banner(emu, key_path), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
        key_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
