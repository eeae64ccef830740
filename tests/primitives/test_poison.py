"""Issue 15.1/15.6: values a process cannot decode (poison pickles) or cannot encode never lose data.

A producer process stores values this test process cannot unpickle: an instance of a class
from a module only the producer has (``ModuleNotFoundError`` here) and an object whose
reduction raises when loaded. Consumers get a lakelet error naming the item; the other
items are delivered, the poison ones are kept aside as dead letters.
"""

from __future__ import annotations

import socket
import threading
import warnings

import pytest

from lakelet.primitives import Dict, Queue
from lakelet.primitives.errors import PoisonItem, UndecodableValue, UndecodableValueWarning, UnpicklableValue

PRODUCER = """
import sys, pathlib, tempfile
mod = pathlib.Path(tempfile.mkdtemp()) / "only_in_producer.py"
mod.write_text("class Missing:\\n    pass\\n")
sys.path.insert(0, str(mod.parent))
import only_in_producer

def boom():
    raise ValueError("this item refuses to be loaded")

class Boom:
    def __reduce__(self):
        return (boom, ())

from lakelet.primitives import Dict, Queue
{body}
"""


def test_queue_poison_items_are_dead_lettered_and_the_others_delivered(lake):
    q = Queue.from_name("poison", create_if_missing=True)
    out = lake.run(
        PRODUCER.format(body='Queue.from_name("poison").put_many([1, only_in_producer.Missing(), 2, Boom(), 3, 4])')
    )
    assert out.returncode == 0, out.stderr
    got, errors = [], []
    for _ in range(10):
        try:
            batch = q.get_many(10, block=False)
        except PoisonItem as e:
            errors.append(e)
            continue
        if not batch:
            break
        got += batch
    assert got == [1, 2, 3, 4]
    assert errors, "the poison items were not reported"
    message = " ".join(map(str, errors))
    assert "only_in_producer" in message and "poison" in message and "refuses to be loaded" in message
    assert isinstance(errors[0], ValueError)  # what callers caught before keeps working
    dead = q.dead_letters()
    assert [d.id for d in dead] == [i for e in errors for i in e.dead_letter_ids] and len(dead) == 2
    assert "only_in_producer" in dead[0].error and "refuses" in dead[1].error and dead[0].partition is None
    assert len(dead[0].data) > 0 and len(q) == 0
    q.clear_dead_letters()
    assert q.dead_letters() == []


def test_queue_poison_single_get_and_acked_get(lake):
    q = Queue.from_name("poison1", create_if_missing=True)
    out = lake.run(
        PRODUCER.format(
            body='q = Queue.from_name("poison1"); q.put("a"); q.put(Boom()); q.put("b"); q.put(Boom(), partition="p")'
        )
    )
    assert out.returncode == 0, out.stderr
    assert q.get() == "a"
    with pytest.raises(PoisonItem, match="refuses"):
        q.get(ack=True)
    with q.get(ack=True) as value:
        assert value == "b"
    with pytest.raises(PoisonItem, match="partition 'p'"):
        q.get(partition="p", timeout=5)
    assert len(q) == 0 and q.len(total=True) == 0
    assert [d.partition for d in q.dead_letters()] == [None, "p"]


def test_queue_put_of_unpicklable_values_names_the_item(lake):
    q = Queue.from_name("unpicklable", create_if_missing=True)
    with pytest.raises(UnpicklableValue, match=r"queue item #1 .*lock"):
        q.put_many(["fine", threading.Lock()])
    with pytest.raises(UnpicklableValue, match="generator"):
        q.put(x for x in range(3))
    assert len(q) == 0  # all or nothing


def test_dict_undecodable_value_names_the_key_and_hides_nothing(lake):
    d = Dict.from_name("poisoned", create_if_missing=True)
    out = lake.run(
        PRODUCER.format(
            body='d = Dict.from_name("poisoned"); d.update({"a": 1, "bad": only_in_producer.Missing(), '
            '"b": 2, "worse": Boom()})'
        )
    )
    assert out.returncode == 0, out.stderr
    with pytest.raises(UndecodableValue, match=r"'bad'.*only_in_producer"):
        d.get("bad")
    with pytest.raises(UndecodableValue, match="'worse'"):
        d["worse"]
    with pytest.raises(UndecodableValue, match="'worse'"):
        d.pop("worse")
    assert "worse" in d and len(d) == 4  # a failed pop removes nothing
    with pytest.warns(UndecodableValueWarning, match=r"'bad'.*'worse'|'worse'.*'bad'"):
        assert sorted(d.items()) == [("a", 1), ("b", 2)]
    with pytest.warns(UndecodableValueWarning):
        assert sorted(d.values()) == [1, 2]
    assert sorted(d.keys()) == ["a", "b", "bad", "worse"]
    assert d.get("a") == 1 and d.pop("a") == 1 and "a" not in d


def test_dict_put_of_unpicklable_values_names_key_and_type(lake, tmp_path):
    d = Dict.from_name("unpicklable", create_if_missing=True)
    with open(tmp_path / "f", "w") as f, socket.socket() as s:
        for value, kind in [
            (threading.Lock(), "lock"),
            ((i for i in ()), "generator"),
            (f, "TextIOWrapper"),
            (s, "socket"),
        ]:
            with pytest.raises(UnpicklableValue, match=rf"'k'.*{kind}"):
                d.put("k", value)
            with pytest.raises(UnpicklableValue, match=rf"'k'.*{kind}"):
                d["k"] = value
    with pytest.raises(UnpicklableValue, match="'second'"):
        d.update({"first": 1, "second": threading.Lock()})
    assert len(d) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert d.items() == []
