"""Issue 15.11: NaN and infinity are refused wherever a timeout, TTL or grace period is taken
(NaN compares False with everything: a NaN timeout used to block forever on an empty queue)."""

from __future__ import annotations

import pytest

from lakelet.errors import InvalidArgument
from lakelet.primitives import Dict, Queue, Volume

NAN, INF = float("nan"), float("inf")


def test_queue_refuses_nan_and_inf_timeouts(lake):
    # in a fresh process: before the fix this call never returned
    out = lake.run(
        """
        from lakelet.errors import InvalidArgument
        from lakelet.primitives import Queue
        q = Queue.from_name("nan", create_if_missing=True)
        try:
            q.get(timeout=float("nan"))
        except InvalidArgument as e:
            print("refused:", e)
        """,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "refused: timeout must be a finite non-negative number of seconds" in out.stdout
    q = Queue.from_name("nan", create_if_missing=True)
    for call in (
        lambda: q.get(timeout=NAN),
        lambda: q.get_many(2, timeout=INF),
        lambda: q.put(1, timeout=NAN),
        lambda: q.put(1, partition="p", partition_ttl=NAN),
        lambda: q.get(ack=True, visibility_timeout=NAN),
        lambda: list(q.iterate(item_poll_timeout=NAN)),
    ):
        with pytest.raises(InvalidArgument, match="number of seconds"):
            call()
    assert len(q) == 0


def test_dict_refuses_nan_and_inf_ttls(lake):
    d = Dict.from_name("nan", create_if_missing=True)
    for ttl in (NAN, INF, -1, 0, True, "10"):
        with pytest.raises(InvalidArgument, match="ttl"):
            d.put("k", 1, ttl=ttl)
    with pytest.raises(InvalidArgument, match="default_ttl"):
        Dict.from_name("nan2", create_if_missing=True, default_ttl=NAN)
    assert len(d) == 0


def test_gc_refuses_nan_grace_periods(lake):
    Volume.from_name("v", create_if_missing=True)
    with pytest.raises(InvalidArgument, match="grace_period"):
        Volume.objects.gc(grace_period=NAN)
