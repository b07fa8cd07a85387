"""`gateway-sim`: run the reference gateway (devices/gateway.py) against a Redis, for tests and benchmarks."""

from __future__ import annotations

import argparse
import contextlib

from ..devices.gateway import Gateway


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("gateway-sim", help="a reference ingestion gateway answering device commands over Redis")
    p.add_argument("--redis", required=True, help="redis:// URL (the stack's: `stack status --show-secrets`)")
    p.add_argument("--instance", required=True, help="this gateway instance's id, e.g. gw-1")
    p.add_argument("--imei", action="append", default=[], help="a device whose session this instance holds (repeat)")
    p.add_argument("--silent", action="store_true", help="never answer (the commands time out)")
    p.add_argument("--nack", action="append", default=[], metavar="KIND", help="refuse commands of this kind (repeat)")
    p.add_argument("--delay-ms", type=int, default=0, help="wait this long before answering")
    p.add_argument("--refresh-seconds", type=float, default=20, help="re-register sessions this often (default 20)")
    p.add_argument("--seconds", type=float, help="stop after this long (default: until interrupted)")
    return p


def run(args: argparse.Namespace) -> int:
    gw = Gateway(args.redis, args.instance, args.imei, args.silent, set(args.nack), args.delay_ms, args.refresh_seconds)
    print(f"{gw.instance}: serving {len(gw.imeis)} device(s)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # SIGTERM too (signals.install): the sessions are removed on the way out
        gw.run(args.seconds)
    print(f"{gw.instance}: handled {gw.handled} command(s)", flush=True)
    return 0
