"""The whole served app (Reflex + our routes, as granian serves it): CORS and the event socket.

Only the public origin may make credentialed cross-origin requests or open the
event websocket (which carries the portal's and the console's cookies).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from portal_app.portal_app import app
from portal_app.settings import get_settings

FOREIGN = "https://evil.test"
EVENT_SOCKET = "/_event/?EIO=4&transport=websocket"


@pytest.fixture(scope="module")
def served() -> Iterator[TestClient]:
    """The ASGI app ``make run`` serves (no frontend build needed: nothing is compiled)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REFLEX_ENV_MODE", "prod")
        env.setenv("__REFLEX_SKIP_COMPILE", "true")
        asgi = app()
    with TestClient(asgi) as client:
        yield client


def public_origin() -> str:
    return get_settings().public_url


def test_a_foreign_preflight_gets_no_cors_grant(served: TestClient) -> None:
    response = served.options("/v1/customers", headers={
        "Origin": FOREIGN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})

    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/ping", "/v1/customers", "/console/login"])
def test_a_foreign_credentialed_request_gets_no_cors_grant(served: TestClient,
                                                           path: str) -> None:
    response = served.get(path, headers={"Origin": FOREIGN, "Cookie": "portico_console=x"})

    assert "access-control-allow-origin" not in response.headers


def test_the_public_origin_keeps_its_cors_grant(served: TestClient) -> None:
    response = served.options("/ping", headers={
        "Origin": public_origin(), "Access-Control-Request-Method": "GET"})

    assert response.headers["access-control-allow-origin"] == public_origin()


def test_the_event_socket_refuses_a_foreign_origin(served: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), served.websocket_connect(
            EVENT_SOCKET, headers={"Origin": FOREIGN, "Upgrade": "websocket"}) as socket:
        socket.receive_text()


def test_the_event_socket_opens_for_the_public_origin(served: TestClient) -> None:
    with served.websocket_connect(EVENT_SOCKET, headers={
            "Origin": public_origin(), "Upgrade": "websocket"}) as socket:
        assert socket.receive_text().startswith('0{"sid":')  # engine.io's open packet


def test_pages_and_api_carry_the_security_headers(served: TestClient) -> None:
    for path in ("/ping", "/v1/customers", "/console/login"):
        headers = served.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY", path
