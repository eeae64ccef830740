"""Issue 10: a @smart_cache hit leaves the caller's state as an uncached call would, in fresh processes.

Global random generators: a function that draws from numpy's or ``random``'s global
generator depends on the state it found (a hit needs the same state) and moves it
(a hit moves it the same way). Arguments changed in place: a hit changes them the
same way, or the call is not cached and a warning says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lakelet

MODULE = """\
import os, random
import numpy as np
from lakelet.cache import smart_cache
STORE = os.environ["LAKE"]

@smart_cache(STORE)
def draw(n):
    return np.random.rand(n).tolist()

@smart_cache(STORE)
def draw_stdlib():
    return random.random()

@smart_cache(STORE)
def pure(x):
    return x * 2

@smart_cache(STORE)
def append(lst, x):
    lst.append(x)
    return len(lst)

@smart_cache(STORE)
def fill(d, s, a):
    d["added"] = 1
    s.add("added")
    a *= 2
    return 0

@smart_cache(STORE)
def prune(df):
    df.drop(columns=["b"], inplace=True)
    return 1
"""

DRIVER = """\
import json, random, sys, warnings
import numpy as np
import pandas as pd
import effects_case as m

seed, cached = int(sys.argv[1]), sys.argv[2] == "cached"
pick = (lambda f: f) if cached else (lambda f: f.__wrapped__)
why = str(m.draw.why(3)) if cached else ""
np.random.seed(seed)
random.seed(seed)
out = {"why": why}
out["draw"] = pick(m.draw)(3)
out["after_numpy"] = np.random.rand()
out["stdlib"] = pick(m.draw_stdlib)()
out["after_random"] = random.random()
out["pure"] = pick(m.pure)(21)
lst, d, s, a = [1], {"k": 0}, {"k"}, np.arange(3)
out["append"] = pick(m.append)(lst, 2)
out["lst"] = lst
out["fill"] = pick(m.fill)(d, s, a)
out["d"], out["s"], out["a"] = d, sorted(s), a.tolist()
df = pd.DataFrame({"a": [1], "b": [2]})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["prune"] = pick(m.prune)(df)
out["df"] = list(df.columns)
out["warned"] = [str(w.message) for w in caught]
if cached:
    names = ("draw", "draw_stdlib", "pure", "append", "fill", "prune")
    out["hits"] = {f: getattr(m, f).cache_info().hits for f in names}
print(json.dumps(out))
"""


def _run(project: Path, env: dict[str, str], seed: int, mode: str) -> dict:
    done = subprocess.run([sys.executable, "driver.py", str(seed), mode], cwd=project, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_hit_leaves_generators_and_arguments_as_an_uncached_call(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "effects_case.py").write_text(MODULE)
    (project / "driver.py").write_text(DRIVER)
    root = str(Path(lakelet.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
               LAKE=str(tmp_path / "lake"), LAKELET_HOME=str(tmp_path / "home"))

    def same_as_uncached(got: dict, seed: int) -> None:
        want = _run(project, env, seed, "uncached")
        for field in ("draw", "after_numpy", "stdlib", "after_random", "pure", "append", "lst", "fill", "d", "s",
                      "a", "prune", "df"):
            assert got[field] == want[field], (field, got[field], want[field])

    first = _run(project, env, 0, "cached")
    assert set(first["hits"].values()) == {0}
    same_as_uncached(first, 0)
    assert any("changed its argument 'df'" in w for w in first["warned"]), first["warned"]

    again = _run(project, env, 0, "cached")  # a restart, same seed: everything cacheable hits
    assert again["hits"] == {"draw": 1, "draw_stdlib": 1, "pure": 1, "append": 1, "fill": 1, "prune": 0}
    same_as_uncached(again, 0)  # the generators moved on and the arguments changed, as without the cache

    reseeded = _run(project, env, 1, "cached")  # seed(0) -> seed(1): never the old draws
    assert reseeded["hits"]["draw"] == 0 and reseeded["hits"]["draw_stdlib"] == 0
    assert reseeded["hits"]["pure"] == 1  # a function that draws nothing does not care about the seed
    assert "global random state of numpy" in reseeded["why"], reseeded["why"]
    same_as_uncached(reseeded, 1)

    back = _run(project, env, 1, "cached")
    assert back["hits"]["draw"] == 1 and back["hits"]["draw_stdlib"] == 1
    same_as_uncached(back, 1)
