"""Names, paths, environment configuration and the ``lakelet`` CLI."""

from __future__ import annotations

import json

import pytest

from lakelet import cli
from lakelet.config import config_set
from lakelet.errors import InvalidArgument, InvalidName, InvalidPath
from lakelet.primitives import Dict, Queue, Volume
from lakelet.primitives.env import get_environment
from lakelet.primitives.names import normalize_path, validate_name


@pytest.mark.parametrize("name", ["a", "A-b_c.1", "x" * 64])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "a b", "a/b", "ü", "..", ".", None, 3])
def test_invalid_names(name):
    with pytest.raises(InvalidName, match="1-64 characters|must be a str"):
        validate_name(name)


@pytest.mark.parametrize(("path", "expected"), [("/", ""), ("a//b/./c", "a/b/c"), ("/x/y/../z", "x/z"), ("a/", "a")])
def test_normalize_path(path, expected):
    assert normalize_path(path) == expected


@pytest.mark.parametrize("path", ["..", "a/../../b", "a\x00", "D:/x", "~/x", "a\\b", b"bytes"])
def test_rejected_paths(path):
    with pytest.raises(InvalidPath):
        normalize_path(path)


def test_environment_config_errors(tmp_path):
    cases = {
        '[environments.main]\nbackend = "cloud"\n': "embedded' or 'shared",
        '[environments.main]\nbackend = "shared"\nvolumes_url = "s3://b/p"\n': "redis_url",
        '[environments.main]\nredis_url = "redis://h:1/0"\n': "volumes_url",
        "[environments.main]\ntypo = 1\n": "unknown keys",
    }
    for text, message in cases.items():
        (tmp_path / "config.toml").write_text(text)
        with config_set(home=tmp_path), pytest.raises(InvalidArgument, match=message):
            get_environment()
    (tmp_path / "config.toml").write_text('[environments.dev]\npath = "' + str(tmp_path / "dev") + '"\n')
    with config_set(home=tmp_path):
        assert get_environment("dev").root == tmp_path / "dev" and not get_environment("dev").shared
        assert get_environment().root == tmp_path / "primitives" / "main"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_volume_dict_queue(embedded, tmp_path, capsys):
    assert run(capsys, "volume", "create", "v")[0] == 0
    (tmp_path / "f.txt").write_text("hello")
    assert run(capsys, "volume", "put", "v", str(tmp_path / "f.txt"), "/docs/")[0] == 0
    code, _, err = run(capsys, "volume", "put", "v", str(tmp_path / "f.txt"), "/docs/f.txt")
    assert code == 1 and "-f" in err
    assert run(capsys, "volume", "put", "-f", "v", str(tmp_path / "f.txt"), "/docs/f.txt")[0] == 0
    assert run(capsys, "volume", "ls", "v")[1].split() == ["docs/"]
    code, out, _ = run(capsys, "volume", "ls", "v", "docs", "--json")
    assert json.loads(out)[0]["path"] == "docs/f.txt"
    assert run(capsys, "volume", "cp", "v", "docs/f.txt", "g.txt")[0] == 0
    assert run(capsys, "volume", "get", "v", "g.txt", "-")[1] == "hello"
    assert run(capsys, "volume", "rm", "v", "docs", "-r")[0] == 0
    assert [x["name"] for x in json.loads(run(capsys, "volume", "list", "--json")[1])] == ["v"]
    assert run(capsys, "volume", "delete", "v", "-y")[0] == 0
    code, _, err = run(capsys, "volume", "ls", "v")
    assert code == 1 and "not found" in err

    run(capsys, "dict", "create", "d")
    Dict.from_name("d").update({"k": [1, 2], "j": "x"})
    assert json.loads(run(capsys, "dict", "get", "d", "k", "--json")[1]) == [1, 2]
    assert len(json.loads(run(capsys, "dict", "items", "d", "--json")[1])) == 2
    assert run(capsys, "dict", "clear", "d", "-y")[0] == 0 and len(Dict.from_name("d")) == 0
    assert run(capsys, "dict", "delete", "d", "-y")[0] == 0

    run(capsys, "queue", "create", "q")
    Queue.from_name("q").put_many([1, 2, 3])
    Queue.from_name("q").put("p", partition="x")
    assert run(capsys, "queue", "len", "q")[1].strip() == "3"
    assert run(capsys, "queue", "len", "q", "-t")[1].strip() == "4"
    assert json.loads(run(capsys, "queue", "peek", "q", "2", "--json")[1]) == [1, 2]
    assert run(capsys, "queue", "clear", "q", "-a", "-y")[0] == 0 and Queue.from_name("q").len(total=True) == 0
    assert run(capsys, "queue", "delete", "q", "-y")[0] == 0
    assert Volume.objects.list() == []
