"""Build the one-folder desktop bundle with PyInstaller: `python packaging/native/build.py DIST`.

What `nicegui-pack --onedir --windowed` runs, plus what chatapp needs beyond it: this
checkout on the search path (an editable install is invisible to PyInstaller), passlib's
hash handlers (found by name at run time), latex2mathml's symbol table, and chatapp's
package metadata (its version). The result is DIST/chatapp/chatapp.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nicegui

ROOT = Path(__file__).resolve().parents[2]


def build(dist: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="chatapp-build-") as work:
        command = [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--onedir", "--windowed",
            "--name", "chatapp",
            "--distpath", str(dist), "--workpath", work, "--specpath", work,
            "--paths", str(ROOT),
            "--add-data", f"{Path(nicegui.__file__).parent}{os.pathsep}nicegui",
            "--add-data", f"{ROOT / 'pages' / 'static'}{os.pathsep}pages/static",
            "--add-data", f"{ROOT / 'services' / 'locale'}{os.pathsep}services/locale",
            "--collect-data", "babel",  # its locale data: dates, numbers, plural rules
            "--hidden-import", "passlib.handlers.argon2",
            "--hidden-import", "passlib.handlers.bcrypt",
            "--collect-data", "latex2mathml",
            "--collect-data", "fastapi_offline",  # Swagger UI's files for /docs
            "--copy-metadata", "chatapp",
            str(ROOT / "packaging" / "native" / "main.py"),
        ]  # fmt: skip
        subprocess.run(command, check=True, cwd=work)
    return dist / "chatapp" / "chatapp"


if __name__ == "__main__":
    print(f"built {build(Path(sys.argv[1] if len(sys.argv) > 1 else 'dist').resolve())}")
