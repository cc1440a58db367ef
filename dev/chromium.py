"""Headless Chromium for the browser tests, from Debian's packages.

    python dev/chromium.py ensure     install chromium and chromium-driver when absent (root: apt-get)
    python dev/chromium.py path       print the browser and driver paths

The tests drive /usr/bin/chromium through /usr/bin/chromedriver with selenium, pointed at both
explicitly so selenium downloads nothing (the machine reaches no browser download site).
"""

from __future__ import annotations

import os
import subprocess
import sys

BROWSER = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
PACKAGES = ("chromium", "chromium-driver")


def present() -> bool:
    return os.access(BROWSER, os.X_OK) and os.access(DRIVER, os.X_OK)


def ensure() -> None:
    if present():
        return
    if os.geteuid() != 0:
        sys.exit(f"chromium: {BROWSER} or {DRIVER} is missing. Install them as root: "
                 f"apt-get install {' '.join(PACKAGES)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"chromium: installing {' '.join(PACKAGES)}", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], check=True, env=env)
    if not present():
        sys.exit(f"chromium: installed {' '.join(PACKAGES)} but {BROWSER} or {DRIVER} is still missing")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["ensure"]:
        ensure()
        return 0
    if args == ["path"]:
        print(BROWSER, DRIVER)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
