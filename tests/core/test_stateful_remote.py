"""The Hypothesis dict-model state machine over real Redis and S3 servers."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, settings

from lakelet import S3, Levels, RedisLocation, Small
from lakelet.testing.stateful import LocationStateMachine

_settings = settings(max_examples=8, stateful_step_count=15, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def test_redis_against_dict_model(redis_server) -> None:  # type: ignore[no-untyped-def]
    class RedisMachine(LocationStateMachine):
        make_location = staticmethod(
            lambda: RedisLocation(redis_server.host, port=redis_server.port, prefix=f"sm-{uuid.uuid4().hex}")
        )

    case = RedisMachine.TestCase
    case.settings = _settings
    case("runTest").runTest()


def test_levels_redis_over_s3_against_dict_model(s3_server, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import aiobotocore.session

    session = aiobotocore.session.AioSession()  # one botocore session: clients are costly to build

    def make() -> Levels:
        return Levels(
            Small(RedisLocation(redis_server.host, port=redis_server.port, prefix=f"sm-{uuid.uuid4().hex}"),
                  max_size=1000),
            S3(s3_server.endpoint_url, s3_server.new_bucket(), key=s3_server.access_key,
               secret=s3_server.secret_key, session=session),
        )

    class StackMachine(LocationStateMachine):
        make_location = staticmethod(make)

    case = StackMachine.TestCase
    case.settings = _settings
    case("runTest").runTest()
