"""A LocalCluster (2 worker processes) in a process of its own, for tests that connect a Client to it.

Started by tests/on_dask/test_datasets_dask.py: prints the scheduler's address, then serves until its
stdin closes. Worker processes started from the pytest process itself would inherit whatever earlier tests
left behind there; from here they start clean.
"""

from __future__ import annotations

import logging
import sys


def main() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()  # until the test closes our stdin


if __name__ == "__main__":
    main()
