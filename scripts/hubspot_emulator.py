"""Run the HubSpot emulator for humans: the sample CRM as a HubSpot portal on a fixed port.

It imports the test suite's emulator (`tests/emulators/hubspot_api.py`, on the emulator
framework in `tests/emulators/framework/`), so it needs the test dependencies that `make run`
installs. The portal is seeded from `sop_library/sample_data/crm.json`, runs on the wall clock
and enforces the chosen tier's rate limits; it prints the variables that point salesops at it
and serves until Ctrl-C. State lives in memory: a restart starts from the sample data again.

    .venv/bin/python scripts/hubspot_emulator.py                  # port 8765, professional tier
    .venv/bin/python scripts/hubspot_emulator.py --port 9000 --tier starter

Then, in another shell (the printed values):

    HUBSPOT_ACCESS_TOKEN=pat-na1-emulator HUBSPOT_BASE_URL=http://127.0.0.1:8765 \\
        HUBSPOT_CLIENT_SECRET=emulator-client-secret SALESOPS_CONNECTION=hubspot make run
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python scripts/hubspot_emulator.py` from anywhere

from tests.emulators.framework import SystemClock  # noqa: E402
from tests.emulators.hubspot_api import ALL_SCOPES, TIERS, HubSpotEmulator  # noqa: E402

PORT = 8765
PORTAL_ID = 111
TOKEN = "pat-na1-emulator"
CLIENT_SECRET = "emulator-client-secret"
CLIENT_ID = "emulator-client-id"


def emulator_start(*, port: int = PORT, tier: str = "professional") -> HubSpotEmulator:
    """The emulator serving one portal seeded with the sample data, on the wall clock."""
    emu = HubSpotEmulator(
        portal_id=PORTAL_ID,
        token=TOKEN,
        scopes=ALL_SCOPES,
        seed=True,
        tier=tier,
        client_secret=CLIENT_SECRET,
        clock=SystemClock(),
    )
    try:
        return emu.start(port=port)
    except OSError as exc:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port} ({exc}); try --port") from None


def banner(emu: HubSpotEmulator, tier: str) -> str:
    """What to tell the human: where it runs, what it holds, the variables to set."""
    store = emu.portal(PORTAL_ID)
    held = ", ".join(f"{len(store.live(t))} {t}" for t in ("contacts", "companies", "deals"))
    access, refresh = emu.oauth_token(PORTAL_ID)
    env = (
        f"HUBSPOT_ACCESS_TOKEN={TOKEN} HUBSPOT_BASE_URL={emu.base_url} "
        f"HUBSPOT_CLIENT_SECRET={CLIENT_SECRET}"
    )
    return "\n".join(
        [
            f"HubSpot emulator on {emu.base_url} ({tier} tier): portal {PORTAL_ID} with {held}",
            "",
            f"  HUBSPOT_BASE_URL={emu.base_url}",
            f"  HUBSPOT_ACCESS_TOKEN={TOKEN}        (a private app's token; never expires)",
            f"  HUBSPOT_CLIENT_SECRET={CLIENT_SECRET}  (signs webhooks and OAuth renewals)",
            f"  HUBSPOT_PORTAL_ID={PORTAL_ID}       (optional: read from the token)",
            f"  HUBSPOT_TIER={tier}",
            "",
            "Or as a public app (OAuth; the access token expires after 30 minutes):",
            f"  HUBSPOT_REFRESH_TOKEN={refresh} HUBSPOT_CLIENT_ID={CLIENT_ID}",
            f"  (this run's access token: {access})",
            "",
            "The main job on it, in another shell:",
            f"  {env} SALESOPS_CONNECTION=hubspot make run",
            "",
            "Ctrl-C to stop.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=PORT, help=f"default {PORT}")
    parser.add_argument("--tier", choices=sorted(TIERS), default="professional")
    args = parser.parse_args(argv)
    emu = emulator_start(port=args.port, tier=args.tier)
    print(banner(emu, args.tier), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
