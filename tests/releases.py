"""Earlier releases of the schema, installed from this repository's history.

An upgrade test installs a release with that release's own runner (its db/ and tools/ taken
from git), then applies the current tree on top. The list starts at the first release whose
numbered migrations are still byte-for-byte those of today: an install older than that was
made from migrations edited since, which the runner refuses by design (docs/CHANGELOG.md).
A clone without this history (a shallow clone) cannot run these tests: they fail and say so.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> commit. Each is a schema that was installed in production at some point.
RELEASES = {
    "2026-11-27-online-migrations": "e41eadda2e519e639f95586ad624c249b4f4e6f7",
    "2026-11-27-directory-keyset": "483d17bd1da07e5bcf9e1633ce20ae1b1809daf1",
    "2026-11-27-last-before-restructure": "19f0d197484dcaa286a281fbfe4b5eb52a1584b2",
}


def checkout(commit: str, dest: Path) -> Path:
    """db/ and tools/ of `commit` extracted into dest (no work tree is touched)."""
    probe = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise AssertionError(f"release {commit} is not in this clone's history (a shallow clone?): "
                             "the upgrade tests need the full history (git fetch --unshallow)")
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit, "db", "tools"],
                         check=True, capture_output=True).stdout
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest, filter="data")
    return dest


def install(commit: str, url: str, workdir: Path) -> None:
    """Install the release `commit` into the empty database at url with that release's runner."""
    tree = checkout(commit, workdir / commit[:12])
    res = subprocess.run([sys.executable, "tools/migrate.py", "--database-url", url],
                         cwd=tree, capture_output=True, text=True)
    assert res.returncode == 0, f"installing release {commit[:12]} failed:\n{res.stdout}\n{res.stderr}"
