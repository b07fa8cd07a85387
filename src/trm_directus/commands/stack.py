"""`stack up|down|status|logs|psql`: the developer's persistent local stack (state in .state/stack)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from .. import console
from ..db.settings import mask_dsn
from ..errors import ConfigError, StackError
from ..services import proc
from ..services.node import ensure_directus
from ..stacks import select
from ..stacks.native import NativeStack, health


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("stack", help="the persistent dev stack: up, down, status, logs, psql")
    verbs = p.add_subparsers(dest="verb", metavar="<verb>", required=True)
    up = verbs.add_parser("up", help="boot the dev stack from the committed artifacts (idempotent)")
    up.add_argument("--backend", choices=select.BACKENDS, default="auto")
    up.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("TRM_DIRECTUS_PORT", "8055")),
        help="Directus port (default 8055 or TRM_DIRECTUS_PORT)",
    )
    up.add_argument(
        "--instances",
        type=int,
        default=None,
        help="Directus processes behind HAProxy on --port (default: as the stack was started, else 1; native only)",
    )
    up.add_argument(
        "--reset",
        action="store_true",
        help="delete the dev stack's database and state first, then start afresh (also when its data directory vanished)",
    )
    up.add_argument("--show-secrets", action="store_true", help="print the admin password and token (hidden by default)")
    down = verbs.add_parser("down", help="stop the dev stack; --purge also deletes its database")
    down.add_argument("--purge", action="store_true")
    status_p = verbs.add_parser("status", help="processes, health and URLs of the dev stack (every Directus instance)")
    status_p.add_argument("--json", action="store_true", help="print the same as one JSON document")
    status_p.add_argument("--show-secrets", action="store_true", help="print the admin password and token (hidden by default)")
    restart = verbs.add_parser("restart", help="restart the dev stack's Directus instances")
    restart.add_argument("--rolling", action="store_true", help="one at a time, each after the previous is back in HAProxy")
    logs = verbs.add_parser("logs", help="show the dev stack's logs")
    logs.add_argument("--service", choices=("directus", "postgres", "redis", "haproxy"), default="directus")
    logs.add_argument("--instance", type=int, default=1, help="which Directus instance (with --instances N)")
    logs.add_argument("--lines", type=int, default=80)
    verbs.add_parser("psql", help="open psql on the dev stack's database")
    verbs.add_parser("env", help="print DB_* and DIRECTUS_* settings of the dev stack as shell exports")
    verbs.add_parser("install", help="install Directus for native stacks into the cache (no-op when present)")
    return p


def run(args: argparse.Namespace) -> int:
    verbs = {
        "up": up,
        "down": down,
        "status": status,
        "restart": restart,
        "logs": logs,
        "psql": psql,
        "env": env,
        "install": install,
    }
    return verbs[args.verb](args)


def install(args: argparse.Namespace) -> int:
    found = ensure_directus()
    console.out(f"Directus {found.version} for native stacks: {found.root} (Node {found.node.home})")
    return 0


def _existing():
    stack = select.dev_stack()
    if stack is None:
        raise ConfigError(f"no dev stack in {select.dev_state_dir()}", "start one with `invoke up`")
    return stack


def describe(stack, show_secrets: bool = False) -> None:
    """URLs and the login; the password and token only when asked (terminal scrollback, CI logs, screen shares)."""
    info = stack.info
    where = f"hidden: --show-secrets, `stack env`, or {Path(info.state_dir) / 'stack.json'} (0600)"
    console.out(f"Directus is up ({info.backend} backend)")
    console.out(f"  admin UI   {info.url}/admin" + (f"   (HAProxy, {info.instances} instance(s))" if info.balancer else ""))
    console.out(f"  login      {info.admin_email} / {info.admin_password if show_secrets else '(' + where + ')'}")
    console.out(f"  token      {info.admin_token if show_secrets else '(hidden)'}")
    console.out(f"  database   {mask_dsn(info.dsn)}   (invoke psql)")
    console.out(f"  redis      {info.redis_url if show_secrets else mask_dsn(info.redis_url)}")
    console.out(f"  state      {info.state_dir}   (invoke down [--purge])")


def up(args: argparse.Namespace) -> int:
    if args.instances is not None and args.instances < 1:  # refused before anything is created or stopped
        raise ConfigError(f"--instances {args.instances}: a stack runs at least one Directus", "pass --instances 1 or more")
    stack = select.dev_stack()
    if stack is not None and args.reset:
        with console.step(f"--reset: deleting the dev stack in {stack.info.state_dir} (database included)"):
            stack.stop(purge=True)
        stack = None
    if stack is not None and args.instances not in (None, stack.info.instances):
        with console.step(f"--instances {args.instances}: stopping the dev stack's {stack.info.instances} instance(s) first"):
            stack.stop()  # the data stays; the stack starts again below with the new count
        stack = select.dev_stack(instances=args.instances)
    if stack is not None and all(stack.running().values()):
        console.info("the dev stack is already running")
        describe(stack, args.show_secrets)
        return 0
    if stack is None:
        backend = select.resolve_backend(args.backend)
        if backend == "native" and proc.port_open(args.port):
            raise StackError(f"port {args.port} is taken", "stop what listens there, or pass --port / set TRM_DIRECTUS_PORT")
        stack = select.make_stack(
            backend, state_dir=select.dev_state_dir(), persistent=True, directus_port=args.port, instances=args.instances or 1
        )
    else:
        stack.stop()  # half-running (e.g. after a reboot): restart cleanly on the same database
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    describe(stack, args.show_secrets)
    return 0


def down(args: argparse.Namespace) -> int:
    stack = select.dev_stack()
    if stack is None:
        console.out("no dev stack to stop")
        return 0
    with console.step("stopping the dev stack" + (" and deleting its data" if args.purge else "")):
        stack.stop(purge=args.purge)
    console.out("dev stack " + ("purged" if args.purge else "stopped (data kept; `invoke up` restarts it)"))
    return 0


def status(args: argparse.Namespace) -> int:
    stack = _existing()
    state = stack.running()
    rows = stack.scale.status() if getattr(stack, "scale", None) else []
    doc = health(stack.info.url)
    if args.json:
        doc = {"url": stack.info.url, "running": state, "health": (doc or {}).get("status"), "instances": rows}
        console.out(json.dumps(doc, indent=2))
        return 0 if all(state.values()) else 1
    width = max(9, *(len(name) + 1 for name in state))  # one Directus: the columns as before instances existed
    for name, ok in state.items():
        console.out(f"  {name:<{width}} {'running' if ok else 'stopped'}")
    for row in rows:
        console.out(f"  {row['name']:<{width}} {row['url']}  pid {row['pid']}  health {row['health']}  haproxy {row['balancer']}")
    console.out(f"  {'health':<{width}} {doc.get('status') if doc else 'no answer'} ({stack.info.url}/server/health)")
    if all(state.values()):
        describe(stack, args.show_secrets)
        return 0
    console.out("the dev stack is not fully running: `invoke up` starts it")
    return 1


def restart(args: argparse.Namespace) -> int:
    stack = _existing()
    if not getattr(stack, "scale", None):
        raise ConfigError("the dev stack runs one Directus without HAProxy", "`stack up --instances 2` (or more) first")
    t0 = time.monotonic()
    if args.rolling:
        stack.scale.rolling_restart()  # prints each instance's restart and its time
    else:
        stack.stop_directus()
        stack.origin = "restart"  # an existing database: its build log stays as it is
        stack.boot()
    console.out(f"restarted {len(stack.scale.names)} instance(s) in {console.fmt_seconds(time.monotonic() - t0)}")
    return 0


def logs(args: argparse.Namespace) -> int:
    stack = _existing()
    if isinstance(stack, NativeStack):
        scale = stack.scale
        directus = scale.log(f"directus-{args.instance}") if scale else stack.boot_log
        haproxy = scale.balancer.log if scale else stack.logs_dir / "haproxy.log"
        path = {"directus": directus, "postgres": stack.postgres.log, "redis": stack.redis.log, "haproxy": haproxy}[args.service]
        console.out(proc.tail(path, args.lines))
    else:
        console.out(stack.logs({"postgres": "db"}.get(args.service, args.service), args.lines))
    return 0


def psql(args: argparse.Namespace) -> int:
    stack = _existing()
    binary = shutil.which("psql")
    if not binary:
        raise StackError("psql is not installed", "apt-get install postgresql-client")
    os.execv(binary, [binary, stack.info.dsn])
    return 0


def env(args: argparse.Namespace) -> int:
    info = _existing().info
    db = info.db_settings
    for key, value in {
        "DB_HOST": db.host,
        "DB_PORT": db.port,
        "DB_DATABASE": db.database,
        "DB_USER": db.user,
        "DB_PASSWORD": db.password,
        "DIRECTUS_URL": info.url,
        "DIRECTUS_TOKEN": info.admin_token,
    }.items():
        console.out(f"export {key}='{value}'")
    return 0
