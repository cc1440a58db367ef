"""The app's Stripe HTTP client: a kept-alive session that does not read the environment per
call, with the environment's proxy for the API's address resolved once."""

from __future__ import annotations

import pytest

from app.payments import environment_proxy, http_client


@pytest.fixture
def clean_proxy_env(monkeypatch):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY",
                 "https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_proxy_in_the_environment_gives_none(clean_proxy_env):
    assert environment_proxy("https://api.stripe.com") is None


def test_the_https_proxy_applies_to_the_stripe_api(clean_proxy_env):
    clean_proxy_env.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert environment_proxy("https://api.stripe.com") == {"http": "http://proxy.internal:3128",
                                                           "https": "http://proxy.internal:3128"}
    # the local fake on http:// is not behind an HTTPS proxy
    assert environment_proxy("http://127.0.0.1:12111") is None


def test_no_proxy_excludes_the_api_host(clean_proxy_env):
    clean_proxy_env.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    clean_proxy_env.setenv("NO_PROXY", "api.stripe.com")
    assert environment_proxy("https://api.stripe.com") is None


def test_the_client_keeps_one_session_without_reading_the_environment(clean_proxy_env):
    clean_proxy_env.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    client = http_client("https://api.stripe.com", 5.0)
    assert client._session is not None and client._session.trust_env is False
    assert client._proxy == {"http": "http://proxy.internal:3128", "https": "http://proxy.internal:3128"}


def test_the_worker_gets_the_apps_client(clean_proxy_env):
    """worker/refunds.py and the worker's money jobs use the app's factory: a bounded timeout
    (STRIPE_TIMEOUT as the app reads it), retries, one kept-alive session, STRIPE_API_BASE."""
    from app.payments import stripe_client_from_env

    clean_proxy_env.setenv("STRIPE_SECRET_KEY", "sk_test_worker")
    clean_proxy_env.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    clean_proxy_env.setenv("STRIPE_TIMEOUT", "3")
    requestor = stripe_client_from_env()._requestor
    assert requestor.base_addresses["api"] == "http://127.0.0.1:12111"
    http = requestor._client
    assert http._timeout == 3.0 and http._session is not None and http._session.trust_env is False
    assert requestor._options.api_key == "sk_test_worker"
    clean_proxy_env.delenv("STRIPE_TIMEOUT")
    assert stripe_client_from_env()._requestor._client._timeout == 5.0  # the app's default
    clean_proxy_env.delenv("STRIPE_SECRET_KEY")
    with pytest.raises(SystemExit, match="STRIPE_SECRET_KEY"):
        stripe_client_from_env()
