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
