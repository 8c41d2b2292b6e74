"""`check --deploy` is clean with the documented production environment; defaults stay local."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.settings.conftest import PRODUCTION_ENV, ROOT, clean_env, settings_of, settings_probe


def test_it_passes_check_deploy_with_the_documented_production_environment(prod_env):
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=prod_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_it_maps_the_production_environment_to_django_settings(prod_env):
    got = settings_of(
        prod_env,
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "STATIC_ROOT",
    )
    assert got == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["salesops.example.com"],
        "CSRF_TRUSTED_ORIGINS": ["https://salesops.example.com"],
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "STATIC_ROOT": "/srv/salesops/static",
    }


def test_it_keeps_the_embedded_run_local_and_plain_http_without_any_environment():
    got = settings_of(
        clean_env(),
        "DEBUG",
        "ALLOWED_HOSTS",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
    )
    assert got == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver"],
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
    }


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("SALESOPS_HSTS_SECONDS", "one year", "is not an integer"),
        ("SALESOPS_HSTS_SECONDS", "-1", "must be at least 0"),
        ("SALESOPS_SECURE_COOKIES", "maybe", "is not a boolean"),
        ("SALESOPS_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "is not an HTTP header name"),
        ("SALESOPS_CSRF_TRUSTED_ORIGINS", "salesops.example.com", "is not an origin"),
        ("SALESOPS_ALLOWED_HOSTS", "https://salesops.example.com", "is not a host name"),
    ],
)
def test_it_refuses_to_start_on_a_bad_deploy_value(name, value, reason):
    proc = settings_probe(clean_env(**{name: value}), "DEBUG")
    assert proc.returncode != 0
    assert "ConfigError" in proc.stderr
    assert f"{name}=" in proc.stderr
    assert reason in proc.stderr


def test_it_documents_the_production_environment_and_every_variable_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for line in PRODUCTION_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name = line.partition("=")[0].removesuffix("_FILE")
            assert line in readme, f"{line!r} is not in the README's production environment"
            assert f"| `{name}` |" in readme, f"{name} has no row in the configuration table"
