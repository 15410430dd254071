"""Property-based fuzzing of every operation from the service's own OpenAPI schema (schemathesis).

Schema-conforming (positive) and non-conforming (negative) requests go over loopback HTTP to a
server whose uploads are enabled; writes are sent with the valid token so their handlers run past
the token check. The property: never a 5xx, never a traceback in the body.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from qa.api.state import ServiceSettings
from tests.test_api import TOKEN, live_server

READS = [("GET", "/health"), ("POST", "/search"), ("POST", "/search/phrase"), ("POST", "/ask"), ("POST", "/similar"),
         ("GET", "/documents"), ("GET", "/documents/{doc_id}"), ("GET", "/clauses/{clause_id}"),
         ("GET", "/feedback/export")]
WRITES = [("POST", "/documents"), ("PUT", "/documents/{doc_id}"), ("DELETE", "/documents/{doc_id}"),
          ("POST", "/feedback")]
EXAMPLES = {"read": 30, "write": 10}  # writes may ingest a generated file: a few seconds each


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = live_server(tmp_path_factory, ServiceSettings(api_token=TOKEN, max_upload_mb=0.5), copy=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_fuzzed_operations_are_all_the_operations(schema):
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert operations == set(READS + WRITES)


def _fuzz(schema, server, method: str, path: str, mode: GenerationMode, examples: int, headers: dict) -> None:
    operation = schema.find_operation_by_path(method, path)
    assert operation is not None, (method, path)
    statuses: Counter[int] = Counter()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=server.url, headers=headers, timeout=120)
        statuses[response.status_code] += 1
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: " \
                                           f"{response.text[:500]}"
        assert "Traceback" not in response.text

    try:
        run()
        print(f"{method} {path} {mode}: {dict(sorted(statuses.items()))}")
    except Unsatisfiable:
        if mode == GenerationMode.NEGATIVE:  # an operation without parameters or body has nothing to break
            pytest.skip(f"{method} {path} takes no input to make invalid")
        raise


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("method,path", READS, ids=[f"{m} {p}" for m, p in READS])
def test_reads_never_fail_on_the_server(schema, server, method, path, mode):
    _fuzz(schema, server, method, path, mode, EXAMPLES["read"], {})


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("method,path", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
@pytest.mark.parametrize("token", [TOKEN, None], ids=["token", "no-token"])
def test_writes_never_fail_on_the_server(schema, server, method, path, mode, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    _fuzz(schema, server, method, path, mode, EXAMPLES["write"], headers)
