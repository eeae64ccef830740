"""Queue contract suite, on the embedded and the shared backend."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import time

import pytest

from lakelet.errors import InvalidArgument
from lakelet.primitives import Queue


def test_fifo_and_seed_surface(lake):
    q = Queue.from_name("jobs", create_if_missing=True)
    q.put(1)
    q.put_many([2, 3, {"x": 4}])
    assert len(q) == 4 == q.len()
    assert q.peek(2) == [1, 2] and len(q) == 4
    assert q.get() == 1
    assert q.get_many(2) == [2, 3]
    assert q.get(block=False) == {"x": 4}
    assert q.get(block=False) is None
    assert q.get_many(3, block=False) == []
    with pytest.raises(queue.Empty):
        q.get(timeout=0.1)
    with pytest.raises(queue.Empty):
        q.get_many(2, timeout=0.1)


def test_partitions(lake):
    q = Queue.from_name("parts", create_if_missing=True)
    q.put("a", partition="p1")
    q.put_many(["b", "c"], partition="p2")
    q.put("d")
    assert q.len(partition="p1") == 1 and q.len(partition="p2") == 2 and q.len() == 1
    assert q.len(total=True) == 4
    assert q.get(partition="p2") == "b"
    q.clear(partition="p2")
    assert q.len(partition="p2") == 0 and q.len(total=True) == 2
    q.clear(all=True)
    assert q.len(total=True) == 0
    with pytest.raises(InvalidArgument):
        q.put(1, partition="")
    with pytest.raises(InvalidArgument):
        q.put(1, partition="x" * 65)


def test_partition_ttl(lake):
    q = Queue.from_name("ttl", create_if_missing=True)
    q.put("gone", partition="p", partition_ttl=0.3)
    assert q.len(partition="p") == 1
    time.sleep(0.45)
    assert q.len(partition="p") == 0 and q.get(partition="p", block=False) is None


def test_maxsize_and_full(lake):
    q = Queue.from_name("small", create_if_missing=True, maxsize=2)
    q.put_many([1, 2])
    with pytest.raises(queue.Full):
        q.put(3, block=False)
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.1)
    with pytest.raises(queue.Full):
        q.put_many([1, 2, 3])  # can never fit
    assert q.get() == 1
    q.put(3)
    assert q.get_many(5) == [2, 3]
    with pytest.raises(InvalidArgument):
        Queue.from_name("bad", create_if_missing=True, maxsize=0)


def test_ack_visibility_timeout_and_nack(lake):
    q = Queue.from_name("acks", create_if_missing=True)
    q.put_many(["a", "b"])
    d = q.get(ack=True, visibility_timeout=0.3)
    assert d.value == "a" and len(q) == 1
    assert q.get() == "b"
    assert q.get(block=False) is None  # "a" is leased
    time.sleep(0.45)
    d2 = q.get(ack=True)  # the lease expired: redelivered
    assert d2.value == "a"
    assert not d.ack()  # the first lease is void
    assert d2.nack()
    with q.get(ack=True) as value:
        assert value == "a"
    assert q.get(block=False) is None and len(q) == 0
    q.put("c")
    with pytest.raises(RuntimeError), q.get(ack=True):
        raise RuntimeError("consumer failed")
    assert q.get() == "c"  # released on error


def test_blocking_get_wakes_up_on_put(lake):
    q = Queue.from_name("wake", create_if_missing=True)
    producer = lake.popen(
        """
        import time
        from lakelet.primitives import Queue
        time.sleep(0.5)
        Queue.from_name("wake").put("hello")
        """
    )
    assert q.get(timeout=30) == "hello"
    producer.wait(30)


def test_many_producers_and_consumers_no_loss_no_duplicates(lake):
    Queue.from_name("work", create_if_missing=True)
    produce = """
        import sys
        from lakelet.primitives import Queue
        q = Queue.from_name("work")
        base = int(sys.argv[1])
        for i in range(0, 300, 30):
            q.put_many([base + j for j in range(i, i + 30)])
    """
    consume = """
        import json
        from lakelet.primitives import Queue
        q = Queue.from_name("work")
        import queue
        got = []
        while True:
            try:
                got += q.get_many(25, timeout=1.5)
            except queue.Empty:
                break
        print(json.dumps(got))
    """
    consumers = [lake.popen(consume) for _ in range(3)]
    producers = [lake.popen(produce.replace("sys.argv[1]", str(base))) for base in (0, 1000)]
    for p in producers:
        assert p.wait(60) == 0, p.stderr.read()
    received = []
    for c in consumers:
        out, err = c.communicate(timeout=60)
        assert c.returncode == 0, err
        received += json.loads(out)
    assert sorted(received) == list(range(300)) + list(range(1000, 1300))


def test_consumer_killed_mid_work_loses_nothing(lake):
    q = Queue.from_name("crash", create_if_missing=True)
    q.put_many(["job-1", "job-2"])
    worker = lake.popen(
        """
        import time
        from lakelet.primitives import Queue
        d = Queue.from_name("crash").get(ack=True, visibility_timeout=1.0)
        print(d.value, flush=True)
        time.sleep(60)
        """
    )
    assert worker.stdout.readline().strip() == "job-1"
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert q.get() == "job-2"
    assert q.get(timeout=10) == "job-1"  # visible again once the dead consumer's lease expired


def test_embedded_queue_survives_process_exit(embedded):
    embedded.run(
        """
        from lakelet.primitives import Queue
        Queue.from_name("durable", create_if_missing=True).put_many(["x", "y"])
        import os
        os._exit(0)  # no clean shutdown
        """
    )
    assert Queue.from_name("durable").get_many(5) == ["x", "y"]


def test_iterate_and_aio(lake):
    q = Queue.from_name("it", create_if_missing=True)
    q.put_many([1, 2, 3])
    assert list(q.iterate()) == [1, 2, 3]

    async def main():
        await q.put_many.aio([4, 5])
        first = await q.get.aio()
        rest = [x async for x in q.iterate.aio(item_poll_timeout=0.1)]
        return first, rest

    assert asyncio.run(main()) == (4, [5])
