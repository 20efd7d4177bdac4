#!/usr/bin/env python3
"""Container health probe that needs only the standard library (slim images have no curl).

    attrition-healthcheck http://127.0.0.1:8000/health/live
        healthy when the URL answers 2xx within --timeout seconds
    attrition-healthcheck --file /app/var/monitor.heartbeat --max-age 90000
        healthy when the file exists and was touched less than --max-age seconds ago

Exit status 0 means healthy and 1 unhealthy (Docker's HEALTHCHECK contract); the reason goes
to stderr, which Docker keeps in the container's health log.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def check_url(url: str, timeout: float) -> str | None:
    """None when ``url`` answers 2xx, else why not."""
    if not url.startswith(("http://", "https://")):
        return f"not an http(s) URL: {url}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url} unreachable: {error}"
    return None if 200 <= status < 300 else f"{url} answered {status}"


def check_file(path: Path, max_age: float, now: float) -> str | None:
    """None when ``path`` exists and is younger than ``max_age`` seconds, else why not."""
    try:
        age = now - path.stat().st_mtime
    except FileNotFoundError:
        return f"{path} does not exist yet"
    return None if age <= max_age else f"{path} is {age:.0f}s old (limit {max_age:.0f}s)"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="attrition-healthcheck", description=__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("url", nargs="?", help="URL that must answer 2xx")
    target.add_argument("--file", type=Path, help="heartbeat file that must be fresh")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (URL mode)")
    parser.add_argument("--max-age", type=float, default=90_000.0, help="seconds (file mode)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.file is not None:
        problem = check_file(args.file, args.max_age, time.time())
    else:
        problem = check_url(args.url, args.timeout)
    if problem is not None:
        sys.stderr.write(f"unhealthy: {problem}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
