"""The OpenAPI 3.1 document: valid, complete, served without a key, loadable by schemathesis."""

from __future__ import annotations

from typing import Any

import schemathesis
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from portal_app.api.openapi import FORM, api_registry, openapi_document
from portal_app.api.schema import Anything, Array, Hash, Map, Spec
from portal_app.routes import API_OPENAPI
from portal_app.web.app import build_http_app


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_registered_endpoint_is_described() -> None:
    document = openapi_document()
    registered = {(e.method.lower(), e.path) for e in api_registry().endpoints}
    described = {(method, path) for path, item in document["paths"].items()
                 for method in item if path != API_OPENAPI}
    assert described == registered
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def _undescribed(spec: Spec, name: str) -> list[str]:
    if isinstance(spec, Anything):
        return [name]
    if isinstance(spec, Hash):
        return [found for key, sub in spec.fields.items()
                for found in _undescribed(sub, f"{name}[{key}]")]
    if isinstance(spec, Array):
        return _undescribed(spec.items, f"{name}[]")
    if isinstance(spec, Map):
        return _undescribed(spec.values, f"{name}[*]")
    return []


def test_every_parameter_has_a_shape() -> None:
    """A parameter declared by name only would be neither checked nor described."""
    undescribed = [f"{e.method} {e.path}: {found}" for e in api_registry().endpoints
                   for found in _undescribed(e.schema, "")]
    assert undescribed == []


def test_bodies_are_form_encoded_with_brackets_and_errors_are_stripes() -> None:
    document = openapi_document()
    create = document["paths"]["/v1/subscriptions"]["post"]
    body = create["requestBody"]["content"][FORM]
    assert body["schema"]["required"] == ["customer", "items"]
    items = body["schema"]["properties"]["items"]
    assert items["items"]["properties"]["price"]["type"] == "string"
    assert body["encoding"]["items"] == {"style": "deepObject", "explode": True}
    assert body["encoding"]["metadata"] == {"style": "deepObject", "explode": True}
    listing = document["paths"]["/v1/subscriptions"]["get"]
    names = {p["name"]: p for p in listing["parameters"]}
    assert names["expand[]"]["schema"]["type"] == "array"
    assert names["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100,
                                        "description": names["limit"]["schema"]["description"]}
    cancel = document["paths"]["/v1/subscriptions/{id}"]["delete"]
    details = next(p for p in cancel["parameters"] if p["name"] == "cancellation_details")
    assert details["style"] == "deepObject"
    assert "too_expensive" in details["schema"]["properties"]["feedback"]["enum"]
    assert create["responses"]["4XX"] == {"$ref": "#/components/responses/Error"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_served_at_v1_openapi_json_without_a_key() -> None:
    client = TestClient(build_http_app())
    response = client.get(API_OPENAPI)
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    assert served == openapi_document()
    # Any other /v1 URL still needs a key.
    assert client.get("/v1/customers").status_code == 401


def test_schemathesis_loads_every_operation() -> None:
    schema = schemathesis.openapi.from_asgi(API_OPENAPI, build_http_app())
    labels = {result.ok().label for result in schema.get_all_operations()}
    expected = {f"{e.method} {e.path}" for e in api_registry().endpoints}
    assert labels - {f"GET {API_OPENAPI}"} == expected  # (it skips the document itself)
