"""The HTTP client against the local index: retries, bounds, caching, offline."""

from __future__ import annotations

import time

import pytest

from scanner.errors import FetchError
from scanner.registry import ClientConfig, HttpClient
from scanner.registry.http import NeedsNetwork, cache_only
from scanner.registry.index import SIMPLE_JSON
from scanner.store import Store
from tests.indexserver import Fault

FAST = dict(backoff=0.01, connect_timeout=2, read_timeout=2)


def client(store=None, **overrides):
    made = HttpClient(ClientConfig(**{**FAST, **overrides}), cache=store)
    made.private_hosts = frozenset({"127.0.0.1"}) | {f"127.0.0.1:{p}" for p in _PORTS}
    return made


_PORTS: set[int] = set()


@pytest.fixture(autouse=True)
def _local_index_is_the_index(index):
    """These tests use the client alone: the local test index is the index it serves."""
    _PORTS.add(int(index.url.rsplit(":", 1)[1].strip("/")))
    yield
    _PORTS.clear()


def test_retries_server_errors_then_succeeds(index):
    index.faults["/simple/six/"] = Fault(status=503, times=2)
    response = client().get(index.url + "simple/six/", accept=SIMPLE_JSON, max_bytes=10**7)
    assert response.status == 200
    assert index.paths().count("/simple/six/") == 3


def test_gives_up_after_retries_with_the_reason(index):
    index.faults["/simple/six/"] = Fault(status=502)
    with pytest.raises(FetchError, match=r"HTTP 502 \(after 3 attempts\)"):
        client(retries=2).get(index.url + "simple/six/", max_bytes=10**7)


def test_honours_retry_after(index):
    index.faults["/simple/six/"] = Fault(status=429, headers={"Retry-After": "1"}, times=1)
    started = time.monotonic()
    response = client().get(index.url + "simple/six/", max_bytes=10**7)
    assert response.status == 200
    assert time.monotonic() - started >= 1.0


def test_refuses_a_retry_after_beyond_the_limit(index):
    index.faults["/simple/six/"] = Fault(status=429, headers={"Retry-After": "3600"})
    with pytest.raises(FetchError, match="retry after 3600 s"):
        client().get(index.url + "simple/six/", max_bytes=10**7)


def test_connection_reset_is_retried(index):
    def reset(handler):
        handler.close_connection = True
        handler.connection.shutdown(2)

    index.faults["/simple/six/"] = Fault(action=reset, times=1)
    assert client().get(index.url + "simple/six/", max_bytes=10**7).status == 200


def test_body_over_the_bound_is_an_error_not_a_crash(index):
    with pytest.raises(FetchError, match="exceeds the 100 byte limit"):
        client().get(index.url + "pypi/six/json", max_bytes=100)


def test_404_is_an_answer(index):
    assert client().get(index.url + "simple/no-such-project/", max_bytes=100).status == 404


def test_cache_answers_fresh_and_revalidates_stale(index, tmp_path):
    store = Store(tmp_path / "cache.db")
    url = index.url + "pypi/six/json"
    client(store).get(url, max_bytes=10**7)
    client(store).get(url, max_bytes=10**7)
    assert index.paths().count("/pypi/six/json") == 1  # fresh: no request
    stale = client(store, ttl=0)
    response = stale.get(url, max_bytes=10**7)
    assert response.status == 200 and response.from_cache
    assert stale.log.records[-1].source == "revalidated"
    assert "If-None-Match" in index.requests[-1][2]


def test_offline_answers_from_cache_only(index, tmp_path):
    store = Store(tmp_path / "cache.db")
    url = index.url + "pypi/six/json"
    client(store).get(url, max_bytes=10**7)
    before = len(index.requests)
    offline = client(store, offline=True, ttl=0)
    assert offline.get(url, max_bytes=10**7).body
    with pytest.raises(FetchError, match="offline"):
        offline.get(index.url + "pypi/certifi/json", max_bytes=10**7)
    assert len(index.requests) == before


def test_user_agent_names_trustscan(index):
    client().get(index.url + "simple/six/", max_bytes=10**7)
    assert index.requests[-1][2]["User-Agent"].startswith("trustscan/")


def test_proxies_ca_bundle_and_no_proxy_come_from_the_environment(monkeypatch, tmp_path):
    """requests' trust_env is off (it re-reads the environment per request); the client
    reads the same settings once per host."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "files.example.invalid")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "corporate.pem"))
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    c = client()
    proxied = c._environment("https://index.example.invalid/simple/six/")
    assert proxied["proxies"]["https"] == "http://proxy.invalid:3128"
    assert proxied["verify"] == str(tmp_path / "corporate.pem")
    assert c._environment("https://files.example.invalid/x.whl")["proxies"] == {}


def test_a_cache_only_pass_asks_for_the_network_instead_of_failing(index, tmp_path):
    store = Store(tmp_path / "cache.db")
    url = index.url + "pypi/six/json"
    client(store).get(url, max_bytes=10**7)
    with cache_only():
        assert client(store).get(url, max_bytes=10**7).from_cache  # fresh: answered
        with pytest.raises(NeedsNetwork):
            client(store).get(index.url + "pypi/certifi/json", max_bytes=10**7)
        with pytest.raises(NeedsNetwork):
            client(store, ttl=0).get(url, max_bytes=10**7)  # stale: would revalidate
        with pytest.raises(FetchError, match="offline"):  # offline, a miss is a miss
            client(store, offline=True).get(index.url + "pypi/certifi/json", max_bytes=10**7)
    assert client(store).get(index.url + "pypi/certifi/json", max_bytes=10**7).status == 200
    assert index.paths().count("/pypi/six/json") == 1
