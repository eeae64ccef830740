"""HTML reprs of storages, locations, volumes, dicts, queues, datasets and query results."""

from __future__ import annotations

import pytest

from lakelet import Disk, HashKeyStorage, Levels, Memory
from lakelet.jupyter import reprs
from lakelet.locations import Small


@pytest.fixture
def attached(monkeypatch):
    """Attach the reprs the way the lead will (``Class._repr_html_ = reprs.func``), for this test only."""
    from lakelet.datasets import Dataset, QueryView
    from lakelet.locations.abc import Location
    from lakelet.primitives import Dict, Queue, Volume

    for cls, func in ((HashKeyStorage, reprs.storage_html), (Location, reprs.location_html),
                      (Volume, reprs.volume_html), (Dict, reprs.dict_html), (Queue, reprs.queue_html),
                      (Dataset, reprs.dataset_html), (QueryView, reprs.query_html)):
        monkeypatch.setattr(cls, "_repr_html_", func, raising=False)


def test_storage_tree_with_local_usage(home, attached):
    storage = HashKeyStorage(Levels(Small(Memory(name="hot"), max_size=1000), Disk(home / "d")))
    storage.write(b"abc")
    html = storage._repr_html_()
    assert "<b>HashKeyStorage</b>" in html
    assert "memory://hot" in html and "3 B, 1 entries" in html
    assert "values ≤ 1000 B" in html
    assert storage.location._repr_html_().count("<li>") == 3


def test_location_repr_redacts_secrets_and_skips_remote_usage(attached):
    from lakelet.locations.abc import Location

    class Remote(Memory):
        kind = "s3"

        @property
        def url(self) -> str:
            return "redis://:secret@host:1/0?token=x"

        def usage(self):
            raise AssertionError("a repr must not list a remote tier")

    html = Remote()._repr_html_()
    assert "secret" not in html and "token" not in html
    assert isinstance(Remote(), Location)


def test_volume_repr(volume, attached):
    html = volume._repr_html_()
    assert "<b>Volume</b> files" in html and "data/" in html and "readme.txt" in html


def test_dict_and_queue_reprs(home, attached):
    from lakelet.primitives import Dict, Queue

    d = Dict.from_name("d", create_if_missing=True)
    d.update({f"k{i}": "<v>" for i in range(15)})
    html = d._repr_html_()
    assert "15 entries" in html and "&#x27;&lt;v&gt;&#x27;" in html and "first 10 of 15" in html
    q = Queue.from_name("q", create_if_missing=True)
    q.put_many([1, 2, 3])
    q.put(9, partition="other")
    html = q._repr_html_()
    assert "3 waiting (4 in all partitions)" in html
    assert html.index("<td>1</td>") < html.index("<td>3</td>")
    assert len(q) == 3  # peeking took nothing


def test_dataset_and_query_reprs(dataset, attached):
    html = dataset._repr_html_()
    assert "30 rows" in html and "<b>image</b>" in html and html.count('<img class="lakelet-thumb"') == 5
    view = dataset.query("SELECT n FROM ds WHERE n < 12")
    html = view._repr_html_()
    assert "12 rows" in html and html.count("<tr>") == 11  # header + the first 10


def test_register_with_ipython(volume):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    reprs.register(shell)
    data, _ = shell.display_formatter.format(volume)
    assert "<b>Volume</b> files" in data["text/html"]
    data, _ = shell.display_formatter.format(Memory(name="m"))
    assert "memory://m" in data["text/html"]


def test_dict_values_show_as_plain_values(home, attached):
    import numpy as np

    from lakelet.primitives import Dict

    d = Dict.from_name("zones", create_if_missing=True)
    d["a"] = np.str_("Midtown")
    d["b"] = {"zone": np.str_("SoHo"), "km": np.float32(1.5)}
    html = d._repr_html_()
    assert "np.str_" not in html and "np.float32" not in html
    assert "&#x27;Midtown&#x27;" in html and "{&#x27;zone&#x27;: &#x27;SoHo&#x27;, &#x27;km&#x27;: 1.5}" in html
