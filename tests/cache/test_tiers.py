"""The cache over shared tiers: entries written through one process's stack are hits in another's."""

from __future__ import annotations

from pathlib import Path

from lakelet.cache import smart_cache


def test_shared_redis_and_s3_tiers(tmp_path: Path, home: Path, redis_server, s3_server) -> None:
    bucket = s3_server.new_bucket()
    s3 = {
        "url": f"s3://{bucket}/cache",
        "endpoint_url": s3_server.endpoint_url,
        "key": s3_server.access_key,
        "secret": s3_server.secret_key,
    }

    def stack(local: Path) -> list:
        # a local cache level (filled on read), small values shared in redis, the rest in s3
        return {"levels": [{"level": str(local), "write": False}, {"small": redis_server.url, "max_size": 65536}, s3]}

    def make(local: Path):
        @smart_cache(stack(local))
        def f(n):
            return list(range(n)), b"x" * 100_000  # a small part (inline) and a big one (s3)

        return f

    first = make(tmp_path / "machine-a")
    expected = (list(range(1000)), b"x" * 100_000)
    assert first(1000) == expected
    second = make(tmp_path / "machine-b")  # another machine: empty local disk, same shared tiers
    assert second(1000) == expected
    assert second.cache_info().hits == 1
