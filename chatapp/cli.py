"""The `chatapp` command: serve the site, or manage users on the configured database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from chatapp import __version__
from chatapp.settings import ConfigError, Settings, load_settings
from services.errors import ChatAppError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatapp", description="A self-hostable ChatGPT-style chat site."
    )
    parser.add_argument("--version", action="version", version=f"chatapp {__version__}")
    parser.add_argument("--host", help="address to listen on (CHATAPP_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (CHATAPP_PORT, default 8080)")
    parser.add_argument("--data-dir", type=Path, help="data folder (CHATAPP_DATA_DIR)")
    parser.add_argument("--database-url", help="sqlite:///file.db or mongodb://... URL")
    parser.add_argument("--native", action="store_true", help="open in a desktop window")
    commands = parser.add_subparsers(dest="command")
    user = commands.add_parser("user", help="manage accounts (works while the server runs)")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--owner", action="store_true", help="make the account the owner")
    actions.add_parser("list", help="list accounts")
    reset = actions.add_parser("reset-password", help="set a new password, signing out everywhere")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    disable = actions.add_parser("disable", help="disable an account and sign it out")
    disable.add_argument("email")
    enable = actions.add_parser("enable", help="enable a disabled account")
    enable.add_argument("email")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(
            host=args.host, port=args.port, data_dir=args.data_dir, database_url=args.database_url
        )
    except ConfigError as exc:
        print(f"chatapp: {exc}", file=sys.stderr)
        return 2
    from chatapp.logs import setup_logging

    setup_logging(settings.log_level, settings.log_file)
    try:
        if args.command == "user":
            return asyncio.run(_user_command(settings, args))
        asyncio.run(_preflight(settings))
    except ChatAppError as exc:
        print(f"chatapp: {exc.message}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"chatapp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    from chatapp.app import run

    run(settings, native=args.native)
    return 0


async def _preflight(settings: Settings) -> None:
    """Open (and migrate) the database once before serving, so a bad URL is one clear line."""
    from services.store import open_store

    store = await open_store(settings.database)
    await store.close()
    if settings.redis_url:
        await _check_redis(settings.redis_url)


async def _check_redis(url: str) -> None:
    """Redis is optional; when configured it must be importable and answer, or we say so."""
    try:
        import redis.asyncio as redis
    except ImportError:
        raise ConfigError(
            "CHATAPP_REDIS_URL needs the redis package: pip install 'chatapp[redis]'"
        ) from None
    client = redis.from_url(url, socket_connect_timeout=5)
    try:
        await client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"CHATAPP_REDIS_URL: Redis does not answer ({exc})") from None
    finally:
        await client.aclose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ConfigError("the two passwords differ")
    return first


async def _user_command(settings: Settings, args: argparse.Namespace) -> int:
    from chatapp.app import build_services, stop_services

    services = await build_services(settings)
    auth, store = services.auth, services.store
    try:
        if args.action == "list":
            for user in await store.list_users():
                flags = " ".join(
                    f for f, on in (("owner", user.is_owner), ("disabled", user.disabled)) if on
                )
                print(f"{user.email}\t{user.created_at:%Y-%m-%d}\t{flags}".rstrip())
            return 0
        if args.action == "add":
            owner = args.owner or await auth.needs_setup()
            user = await auth.register(
                email=args.email, password=_read_password(args.password_stdin), is_owner=owner
            )
            print(f"created {user.email}" + (" (owner)" if owner else ""))
            return 0
        user = await store.get_user_by_email(args.email.strip().lower())
        if user is None:
            print(f"chatapp: no account with email {args.email}", file=sys.stderr)
            return 1
        if args.action == "reset-password":
            await auth.set_password(user.id, _read_password(args.password_stdin))
            print(f"password of {user.email} changed; its sessions are signed out")
        elif args.action == "disable":
            await auth.disable(user.id)
            print(f"disabled {user.email}")
        elif args.action == "enable":
            await auth.enable(user.id)
            print(f"enabled {user.email}")
        return 0
    except ConfigError as exc:
        print(f"chatapp: {exc}", file=sys.stderr)
        return 1
    finally:
        await stop_services(services)


if __name__ == "__main__":
    sys.exit(main())
