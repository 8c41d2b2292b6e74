"""The API root, the OpenAPI schema and its docs pages, and the one error shape everywhere."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_root_lists_every_collection_and_the_docs(db):
    response = APIClient().get("/api/")
    assert response.status_code == 200
    links = response.json()["endpoints"]
    assert links["runs"] == "http://testserver/api/runs/"
    assert {"sops", "escalations", "connections", "schema", "docs", "redoc"} <= set(links)


def test_the_schema_is_openapi_3_with_token_and_session_auth(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    start = schema["paths"]["/api/runs/"]["post"]
    assert set(start["responses"]) >= {"202", "400", "401", "403", "409", "415", "429", "503"}
    error = schema["components"]["schemas"]["ErrorOutput"]
    assert set(error["required"]) == {"detail", "errors"}
    filters = {p["name"] for p in schema["paths"]["/api/escalations/"]["get"]["parameters"]}
    assert filters >= {"status", "sop", "connection", "record_id", "created_after", "limit"}


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_their_scripts_from_this_site(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(src.startswith("/") for src in scripts), scripts
    assert "<script>" not in html  # no inline script: the CSP (scripts from self) holds
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_swagger_start_up_script_is_served(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert "/api/schema/" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/nope/", 404),
        ("post", "/api/runs/1/extra/", 404),
        ("delete", "/api/runs/", 405),
        ("put", "/api/sops/", 405),
    ],
)
def test_every_refusal_has_the_one_shape(api_manager, method: str, path: str, status: int):
    response = getattr(api_manager, method)(path, {}, format="json")
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]


def test_an_unsupported_media_type_is_a_415_in_the_shape(api_manager, library):
    response = api_manager.post("/api/runs/", "sop=x", content_type="text/plain")
    assert response.status_code == 415
    assert set(response.json()) == {"detail", "errors"}


def test_field_errors_are_lists_of_messages_by_field(api_manager, library):
    response = api_manager.post(
        "/api/runs/batch/", {"sop": "Not A Slug", "record_ids": [""]}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"sop", "record_ids.0"}
    assert all(isinstance(m, list) and all(isinstance(x, str) for x in m) for m in errors.values())
