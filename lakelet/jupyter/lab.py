"""``lakelet lab``: JupyterLab on the demo notebooks, with the lakelet sidebar, nothing to configure.

The demos ship inside the package (``lakelet/_demos`` in a wheel, ``notebooks/`` in a checkout).
They are copied into a folder of the user's (default ``./lakelet-demos``) so edits stay theirs:
a notebook already there is never overwritten. The lake is the embedded default
(``~/.lakelet``, or ``$LAKELET_HOME``); each demo makes its own temporary home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import InvalidArgument, MissingDependency

#: the notebook JupyterLab opens first
FIRST_DEMO = "01_caching.ipynb"
#: where the demos go when no folder is given
DEFAULT_DIR = "lakelet-demos"


def demo_source() -> Path:
    """The folder holding the shipped demo notebooks (wheel: ``lakelet/_demos``; checkout: ``notebooks``)."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "_demos", package.parent / "notebooks"):
        if any(folder.glob("*.ipynb")):
            return folder
    raise MissingDependency(f"the demo notebooks are not installed (looked in {package / '_demos'}); "
                            'reinstall with pip install "lakelet[all]"')


def copy_demos(target: Path) -> tuple[list[Path], list[Path]]:
    """Copy the demos (and nbval's sanitize file) into ``target``: ``(copied, kept)`` — kept are not overwritten."""
    if target.exists() and not target.is_dir():
        raise InvalidArgument(f"{target} is a file; give a folder for the demo notebooks")
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for source in sorted(demo_source().glob("*.ipynb")):
        dest = target / source.name
        if dest.exists():
            kept.append(dest)
            continue
        shutil.copyfile(source, dest)
        copied.append(dest)
    return copied, kept


def lab_command(folder: Path, *, open_browser: bool = True, port: int | None = None,
                extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line serving ``folder`` and opening the first demo."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError as e:
        raise MissingDependency('lakelet lab needs JupyterLab: pip install "lakelet[all]"') from e
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if (folder / FIRST_DEMO).is_file():
        cmd.append(f"--LabApp.default_url=/lab/tree/{FIRST_DEMO}")
    if not open_browser:
        cmd.append("--no-browser")
    if port is not None:
        cmd.append(f"--port={port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers often run as root; Jupyter refuses it otherwise
    return [*cmd, *extra]


def run_lab(folder: Path, *, open_browser: bool = True, port: int | None = None, extra: Sequence[str] = ()) -> int:
    """Copy the demos into ``folder`` and run JupyterLab there until it is stopped; its exit status."""
    folder = folder.expanduser().resolve()
    copied, kept = copy_demos(folder)
    cmd = lab_command(folder, open_browser=open_browser, port=port, extra=extra)
    print(f"demo notebooks in {folder}: {len(copied)} copied, {len(kept)} kept as they were", flush=True)
    print("starting JupyterLab (Ctrl+C to stop); the lakelet sidebar is the lake icon on the left", flush=True)
    if os.name == "posix":  # Jupyter takes over this process: Ctrl+C and its shutdown prompt work as usual
        os.execv(cmd[0], cmd)  # noqa: S606 - our own interpreter, arguments built above
    try:
        return subprocess.call(cmd)  # noqa: S603
    except KeyboardInterrupt:
        return 130


__all__ = ["DEFAULT_DIR", "FIRST_DEMO", "copy_demos", "demo_source", "lab_command", "run_lab"]
