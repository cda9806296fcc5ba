"""`python -m chaosext.lab serve --topology NAME|PATH --state-dir DIR`: run a lab
in this process until SIGTERM or SIGINT (what `start_lab` spawns)."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from chaosext.lab import runtime, topology


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaosext.lab")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a lab until SIGTERM/SIGINT")
    serve.add_argument("--topology", default="guide-000", help="shipped name or path")
    serve.add_argument("--state-dir", default=None, help="default: $MESHDRILL_LAB_DIR")
    serve.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    state_dir = args.state_dir or runtime.default_state_dir()
    try:
        asyncio.run(runtime.serve(args.topology, state_dir))
    except topology.TopologyError as exc:
        print(f"meshdrill lab: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
