"""The config follows the user: a running process sees a changed LAKELET_HOME or an edited config.toml.

Each test runs a fresh Python process that changes its environment and files
between calls, as a notebook does (the demos set their own LAKELET_HOME).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKELET_")}
    env.update(PYTHONPATH=REPO, HOME=str(tmp_path / "user"))
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


HOME_AND_FILE = r"""
import json, os, sys, tomllib
from pathlib import Path
import lakelet.config as C

base = Path(sys.argv[1])
a, b = base / "a", base / "b"
for home, lake in ((a, "lake-a"), (b, "lake-b")):
    home.mkdir()
    (home / "config.toml").write_text(f'lake = "{home / lake}"\n')
out = {}
os.environ["LAKELET_HOME"] = str(a)
out["first"] = C.get_config().lake_spec

parses = []
real = tomllib.loads
C.tomllib.loads = lambda text: (parses.append(1), real(text))[1]
for _ in range(1000):
    C.get_config()
out["parses_unchanged"] = len(parses)

os.environ["LAKELET_HOME"] = str(b)
out["after_env"] = C.get_config().lake_spec
(b / "config.toml").write_text(f'lake = "{b / "edited-lake"}"\n[cache]\nlease_ttl = 5\n')
out["after_edit"] = C.get_config().lake_spec
out["parses_after_two_changes"] = len(parses)
(b / "config.toml").unlink()
out["after_delete"] = C.get_config().lake_spec

(b / "config.toml").write_text("lake = [unclosed\n")
try:
    C.get_config()
except Exception as e:
    out["bad"] = [type(e).__name__, str(b / "config.toml") in str(e)]
(b / "config.toml").write_text(f'lake = "{b / "fixed"}"\n')
out["fixed"] = C.get_config().lake_spec

C.set_concurrency(3)  # an explicit setting stays while the environment changes
os.environ["LAKELET_HOME"] = str(a)
out["explicit"] = [C.get_config().concurrency, C.get_config().lake_spec]
c = base / "c"
c.mkdir()
with C.config_set(home=c):
    out["block_default"] = C.get_config().lake_spec
    (c / "config.toml").write_text(f'lake = "{c / "in-block"}"\n')
    out["block_edit"] = C.get_config().lake_spec
out["after_block"] = C.get_config().lake_spec
print(json.dumps(out))
"""


def test_get_config_follows_home_and_edits_with_one_stat_per_call(tmp_path: Path) -> None:
    out = _run(HOME_AND_FILE, tmp_path)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert out["first"] == str(a / "lake-a")
    assert out["parses_unchanged"] == 0  # a stat per call, no re-parse while nothing changed
    assert out["after_env"] == str(b / "lake-b")
    assert out["after_edit"] == str(b / "edited-lake")
    assert out["parses_after_two_changes"] == 2
    assert out["after_delete"] == str(b / "lake")  # no config.toml: the default lake of that home
    assert out["bad"] == ["InvalidArgument", True]
    assert out["fixed"] == str(b / "fixed")
    assert out["explicit"] == [3, str(a / "lake-a")]
    assert out["block_default"] == str(c / "lake") and out["block_edit"] == str(c / "in-block")
    assert out["after_block"] == str(a / "lake-a")


CACHE = r"""
import json, os, sys
from pathlib import Path
base = Path(sys.argv[1])
os.environ["LAKELET_HOME"] = str(base / "a")
from lakelet.cache import smart_cache

os.environ["RUNS_FILE"] = str(base / "runs")

@smart_cache
def square(x):
    with open(os.environ["RUNS_FILE"], "a") as f:  # counts executions without changing the function's globals
        f.write("x")
    return bytes(200_000 + x)  # a blob of its own: not served from the process's small-result memory

square(4)
os.environ["LAKELET_HOME"] = str(base / "b")   # a notebook switching to its own home
square(4)                                      # a miss: b's lake is empty
square(4)                                      # a hit in b's lake
os.environ["LAKELET_HOME"] = str(base / "a")
square(4)                                      # a hit in a's lake
print(json.dumps({"runs": len((base / "runs").read_text())}))
"""


def test_smart_cache_uses_the_lake_of_the_current_home(tmp_path: Path) -> None:
    out = _run(CACHE, tmp_path)
    assert out["runs"] == 2
    for home in ("a", "b"):
        lake = tmp_path / home / "lake"
        assert lake.is_dir() and any(p.is_file() for p in lake.rglob("*") if ".tmp" not in p.parts), home
