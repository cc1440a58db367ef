"""axe-core, the accessibility engine the browser tests run in Chromium, from the npm registry.

    python dev/axe.py ensure     fetch the pinned version (npm pack), check its integrity, unpack
                                 axe.min.js and its licence into build/axe-core/<version>/
    python dev/axe.py path       print the path of axe.min.js

Pinned: VERSION and the registry's sha512 integrity of its tarball (a different file is refused).
It lives in build/ (ignored by git) rather than in the repository: a 550 KB minified third-party
file (MPL-2.0, its LICENSE kept beside it) that only the tests use, fetched by its pinned version
and checksum on any clean clone by `make test` (like Chromium from Debian), so upgrading it is a
one-line change here and not a vendored blob in the history. The pages never serve it: the tests
inject it through WebDriver.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "4.10.3"
INTEGRITY = "sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg=="
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "build" / "axe-core" / VERSION
SCRIPT = TARGET / "axe.min.js"
FILES = ("axe.min.js", "LICENSE")


def present() -> bool:
    return all((TARGET / f).is_file() for f in FILES)


def ensure() -> Path:
    if present():
        return SCRIPT
    if shutil.which("npm") is None:
        sys.exit("axe-core: npm is needed to fetch it from the npm registry (apt-get install npm)")
    with tempfile.TemporaryDirectory(prefix="ssr-axe-") as tmp:
        print(f"axe-core: fetching {VERSION} from the npm registry", file=sys.stderr)
        subprocess.run(["npm", "pack", f"axe-core@{VERSION}", "--pack-destination", tmp, "--silent"], check=True,
                       cwd=tmp, stdout=subprocess.DEVNULL)
        [tarball] = Path(tmp).glob("axe-core-*.tgz")
        data = tarball.read_bytes()
        got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if got != INTEGRITY:
            sys.exit(f"axe-core: {tarball.name} has integrity {got}, expected {INTEGRITY}: refused")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            staged = Path(tmp) / "staged"
            staged.mkdir()
            for name in FILES:
                member = tar.getmember(f"package/{name}")
                (staged / name).write_bytes(tar.extractfile(member).read())
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.copytree(staged, TARGET)
    return SCRIPT


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["ensure"]:
        ensure()
        return 0
    if args == ["path"]:
        print(SCRIPT)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
