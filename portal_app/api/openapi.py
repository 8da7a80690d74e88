"""The OpenAPI 3.1 document of Portico's API, generated from the endpoint registries.

Every endpoint of :mod:`portal_app.api.routes` (Stripe's) and
:mod:`portal_app.api.portico_routes` (Portico's own) appears with the parameters
its schema (:mod:`portal_app.api.schema`) declares — the same tree the pipeline
checks requests against. Bodies are ``application/x-www-form-urlencoded`` with
Stripe's bracket notation (``items[0][price]=..``, ``metadata[k]=v``: nested
properties encoded ``deepObject``); ``GET`` and ``DELETE`` take the same
parameters in the query string (arrays as ``name[]``). Every error is Stripe's
envelope.

Served at ``GET /v1/openapi.json`` without an API key: it describes the API's
shape only (like Stripe's published specification), never an account's data.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal_app.api.pipeline import Endpoint, Registry
from portal_app.api.portico_routes import endpoint as portico_endpoints
from portal_app.api.routes import endpoint as stripe_endpoints
from portal_app.api.schema import Array, Hash, Id, Map, Metadata, Spec
from portal_app.routes import API_OPENAPI
from portal_app.stripe_shapes import API_VERSION

FORM = "application/x-www-form-urlencoded"
_PATH_PARAM = re.compile(r"{(\w+)}")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["type", "message"],
        "properties": {
            "type": {"type": "string", "enum": ["api_error", "card_error", "idempotency_error",
                                                "invalid_request_error"]},
            "code": {"type": "string"},
            "decline_code": {"type": "string"},
            "doc_url": {"type": "string"},
            "message": {"type": "string"},
            "param": {"type": "string"},
        },
    }},
}


def api_registry() -> Registry:
    """Every endpoint Portico serves under ``/v1``: Stripe's, then Portico's own."""
    return Registry.joined(stripe_endpoints, portico_endpoints)


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered endpoint."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in api_registry().endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    paths[API_OPENAPI] = {"get": {
        "operationId": "retrieve_openapi_document",
        "summary": "This document.",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portico API",
            "version": API_VERSION,
            "description": "Stripe-compatible billing portal API (Stripe API version "
                           f"{API_VERSION}) and Portico's retention endpoints under "
                           "/v1/portico. Form-encoded requests with Stripe's bracket "
                           "notation; Stripe's error envelope.",
        },
        "security": [{"bearerAuth": []}, {"basicAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A secret key: Authorization: Bearer sk_..."},
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": "The secret key as the user, no password."},
            },
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {"Error": {
                "description": "Stripe's error envelope.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }},
        },
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    doc = (endpoint.handler.__doc__ or "").strip().splitlines()
    operation: dict[str, Any] = {
        "operationId": endpoint.handler.__name__,
        "summary": doc[0] if doc else endpoint.handler.__name__.replace("_", " ").capitalize(),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": Id().json_schema()}
            for name in _PATH_PARAM.findall(endpoint.path)],
        "responses": {
            "200": {"description": "The object, or a list object.",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
            "4XX": {"$ref": "#/components/responses/Error"},
            "5XX": {"$ref": "#/components/responses/Error"},
        },
    }
    schema = endpoint.schema
    if endpoint.method == "POST":
        body = schema.json_schema()
        operation["requestBody"] = {
            "required": bool(schema.required),
            "content": {FORM: {"schema": body, "encoding": {
                name: {"style": "deepObject", "explode": True}
                for name, spec in schema.fields.items() if _is_nested(spec)}}},
        }
    else:
        operation["parameters"] += [_query_parameter(name, spec, name in schema.required)
                                    for name, spec in schema.fields.items()]
    return operation


def _is_nested(spec: Spec) -> bool:
    return isinstance(spec, Hash | Array | Map | Metadata)


def _query_parameter(name: str, spec: Spec, required: bool) -> dict[str, Any]:
    """A query parameter in Stripe's notation: ``name[]=a&name[]=b``, ``name[key]=v``."""
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": required,
                                 "schema": spec.json_schema()}
    if isinstance(spec, Array):
        parameter.update(name=f"{name}[]", style="form", explode=True)
    elif _is_nested(spec):
        parameter.update(style="deepObject", explode=True)
    return parameter


async def _serve(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


ROUTES = [Route(API_OPENAPI, _serve, methods=["GET"])]
