"""Stripe's form encoding: ``items[0][price]=..``, ``metadata[k]=v``, ``expand[]=..``.

:func:`decode` turns the ``(key, value)`` pairs of a form body or a query string
into nested dicts and lists; the ``to_*`` helpers convert one decoded value the
way Stripe does, raising its ``invalid_request_error`` with the offending
``param``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from portal_app.clock import from_unix
from portal_app.errors import InvalidRequest
from portal_app.limits import (
    MAX_ID_LENGTH,
    MAX_QUANTITY,
    MAX_STRING_LENGTH,
    MAX_TIMESTAMP,
    check_amount,
    check_metadata,
)

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

# Maps whose keys are the merchant's own (``metadata[0]=x`` is a key "0", not a list).
_FREE_KEYS = frozenset({"metadata"})


def parse_body(body: bytes | str) -> dict[str, Any]:
    """Decode a ``application/x-www-form-urlencoded`` body or a query string."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    return decode(parse_qsl(body, keep_blank_values=True))


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``name[a][0][b]=v`` pairs; numbered maps become lists, ``[]`` appends.

    >>> decode([("items[0][price]", "p"), ("expand[]", "a"), ("metadata[k]", "v")])
    {'items': [{'price': 'p'}], 'expand': ['a'], 'metadata': {'k': 'v'}}
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            # No database stores it (PostgreSQL refuses NUL in text): refused here, for all.
            raise InvalidRequest(f"Invalid string: {key} contains a null character.",
                                 param=key.replace("\x00", ""))
        path = _split(key)
        if path is None:
            raise InvalidRequest(f"Invalid parameter name: {key}", param=key)
        _put(root, path, value, key)
    # The top level is always a map of parameters, even when they are named "0", "1"...
    return {name: _listify(value, free=name in _FREE_KEYS) for name, value in root.items()}


def _split(key: str) -> list[str] | None:
    head, bracket, rest = key.partition("[")
    if not head:
        return None
    if not bracket:
        return [head]
    rest = "[" + rest
    segments = _SEGMENT.findall(rest)
    if "".join(f"[{s}]" for s in segments) != rest:
        return None
    return [head, *segments]


_APPEND = object()
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _put(node: Any, path: list[str], value: str, key: str) -> None:
    """Write ``value`` at ``path`` below ``node``; ``""`` segments append (Rails style)."""
    for depth, segment in enumerate(path):
        last = depth == len(path) - 1
        if segment == "":  # name[] or name[][field]
            if not isinstance(node, list):
                raise InvalidRequest(f"Invalid array: {key}", param=key)
            if last:
                node.append(value)
                return
            nxt = path[depth + 1]
            # A new element starts when the current one already has this field.
            if not node or not isinstance(node[-1], dict) or nxt in node[-1]:
                node.append({})
            node = node[-1]
            continue
        if not isinstance(node, dict):
            raise InvalidRequest(f"Invalid hash: {key}", param=key)
        if last:
            node[segment] = value
            return
        want_list = path[depth + 1] == ""
        child = node.get(segment)
        if child is None or isinstance(child, str):
            child = [] if want_list else {}
            node[segment] = child
        elif want_list and not isinstance(child, list):
            raise InvalidRequest(f"Invalid array: {key}", param=key)
        node = child


def _listify(node: Any, *, free: bool) -> Any:
    """Maps keyed 0..n-1 (in any order) become lists, except the merchant's own maps."""
    if isinstance(node, list):
        return [_listify(item, free=False) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v, free=k in _FREE_KEYS) for k, v in node.items()}
    if not free and out and all(k.isdigit() for k in out):
        indexes = sorted(int(k) for k in out)
        if indexes == list(range(len(indexes))):
            return [out[str(i)] for i in indexes]
    return out


# --- converting one value ----------------------------------------------------------------


def to_str(value: Any, param: str, *, max_length: int = MAX_STRING_LENGTH) -> str:
    """A string parameter of at most ``max_length`` characters (a map or list is refused)."""
    if not isinstance(value, str):
        raise InvalidRequest(f"Invalid string: {_show(value)}", param=param)
    if len(value) > max_length:
        raise InvalidRequest(f"Invalid string: {value[:40]}...; must be at most {max_length} "
                             "characters", param=param)
    return value


def to_id(value: Any, param: str) -> str:
    """An object id: a string of at most ``MAX_ID_LENGTH`` characters, no whitespace.

    Whether it names an object is the service's question (Stripe's 404). Raises InvalidRequest.
    """
    text = to_str(value, param, max_length=MAX_ID_LENGTH)
    if any(c.isspace() or not c.isprintable() for c in text):
        raise InvalidRequest(f"Invalid id: {text!r}", param=param)
    return text


def one_of(value: Any, choices: Iterable[str], param: str) -> str:
    """A string among ``choices``, refused in Stripe's words otherwise."""
    choices = tuple(choices)
    text = to_str(value, param)
    if text not in choices:
        listed = choices[-1] if len(choices) == 1 else (
            ", ".join(choices[:-1]) + (", or " if len(choices) > 2 else " or ") + choices[-1])
        raise InvalidRequest(f"Invalid {param}: must be one of {listed}", param=param)
    return text


def to_int(value: Any, param: str, *, minimum: int | None = None,
           maximum: int | None = None) -> int:
    """An integer parameter, within ``minimum``..``maximum`` when given."""
    code = "parameter_invalid_integer"
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequest(f"Invalid integer: {_show(value)}", param=param, code=code)
    text = value.strip() if isinstance(value, str) else str(value)
    # ASCII digits only (Python's int() also reads "1_000" and other scripts' digits), and
    # within a signed 64-bit integer, as Stripe.
    if not _INTEGER.fullmatch(text) or not _INT64_MIN <= int(text) <= _INT64_MAX:
        raise InvalidRequest(f"Invalid integer: {text[:40]}", param=param, code=code)
    number = int(text)
    if minimum is not None and number < minimum:
        if minimum == 0:
            raise InvalidRequest(f"Invalid non-negative integer: {value}", param=param,
                                 code=code)
        if minimum == 1:
            raise InvalidRequest(f"Invalid positive integer: {value}", param=param, code=code)
    if ((minimum is not None and number < minimum)
            or (maximum is not None and number > maximum)):
        bounds = [f"greater than or equal to {minimum}" if minimum is not None else "",
                  f"less than or equal to {maximum}" if maximum is not None else ""]
        raise InvalidRequest(f"This value must be {' and '.join(b for b in bounds if b)}.",
                             param=param, code=code)
    return number


def to_amount(value: Any, param: str, *, currency: str | None = None) -> int:
    """An amount in minor units, within Stripe's bound for ``currency`` (any, if None).

    Raises InvalidRequest (``amount_too_large`` past the bound).
    """
    return check_amount(to_int(value, param, minimum=0), currency, param=param)


def to_quantity(value: Any, param: str, *, minimum: int = 0) -> int:
    """A quantity: a non-negative (or ``minimum``) integer up to ``MAX_QUANTITY``."""
    return to_int(value, param, minimum=minimum, maximum=MAX_QUANTITY)


def to_timestamp(value: Any, param: str) -> datetime:
    """A Unix timestamp (seconds) as an aware UTC datetime, year 9999 at most."""
    return from_unix(to_int(value, param, minimum=0, maximum=MAX_TIMESTAMP))


def to_float(value: Any, param: str) -> float:
    """A finite decimal parameter (a rate such as ``percent_off``, never money)."""
    try:
        number = float(to_str(value, param, max_length=100))
    except ValueError:
        raise InvalidRequest(f"Invalid decimal: {value}", param=param) from None
    if not math.isfinite(number):
        raise InvalidRequest(f"Invalid decimal: {value}", param=param)
    return number


def to_bool(value: Any, param: str) -> bool:
    """``true`` or ``false``, as the SDK sends booleans."""
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise InvalidRequest(f"Invalid boolean: {_show(value)}", param=param)


def to_dict(value: Any, param: str) -> dict[str, Any]:
    """A hash parameter; ``""`` (Stripe's "unset") is an empty hash."""
    if value == "":
        return {}
    if isinstance(value, dict):
        return value
    raise InvalidRequest(f"Invalid hash: {_show(value)}", param=param)


def to_list(value: Any, param: str) -> list[Any]:
    """An array parameter; ``""`` (Stripe's "unset") is an empty array."""
    if value == "":
        return []
    if isinstance(value, list):
        return value
    raise InvalidRequest(f"Invalid array: {_show(value)}", param=param)


def to_metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """``metadata[k]=v`` pairs within Stripe's limits (``""`` removes a key on update).

    Raises InvalidRequest.
    """
    out: dict[str, str] = {}
    for key, item in to_dict(value, param).items():
        out[key] = to_str(item, f"{param}[{key}]")
    check_metadata(out, param=param)
    return out


def refuse_unknown(params: Mapping[str, Any], allowed: Iterable[str], *,
                   prefix: str = "") -> None:
    """Stripe's ``Received unknown parameter`` for any key outside ``allowed``."""
    allowed = set(allowed)
    for key in params:
        if key not in allowed:
            name = f"{prefix}[{key}]" if prefix else key
            raise InvalidRequest(f"Received unknown parameter: {name}", param=name,
                                 code="parameter_unknown")


def required(params: Mapping[str, Any], name: str, *, parent: str | None = None) -> Any:
    """``params[name]``, which must be given and not empty (``parent[name]`` when nested).

    Raises InvalidRequest (``parameter_missing``).
    """
    if params.get(name) in (None, ""):
        param = f"{parent}[{name}]" if parent else name
        raise InvalidRequest(f"Missing required param: {param}.", param=param,
                             code="parameter_missing")
    return params[name]


def optional_str(params: Mapping[str, Any], name: str, *, parent: str | None = None
                 ) -> str | None:
    """``params[name]`` as a string if given (``""`` stays ``""``: it clears a field).

    Raises InvalidRequest.
    """
    if name not in params:
        return None
    return to_str(params[name], f"{parent}[{name}]" if parent else name)


ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def to_address(value: Any, param: str) -> dict[str, Any] | None:
    """Stripe's address hash, every field present (``""`` clears the address).

    Raises InvalidRequest.
    """
    if value == "":
        return None
    given = to_dict(value, param)
    refuse_unknown(given, ADDRESS_FIELDS, prefix=param)
    return {key: to_str(given[key], f"{param}[{key}]") if key in given else None
            for key in ADDRESS_FIELDS}


def to_shipping(value: Any, param: str) -> dict[str, Any] | None:
    """Stripe's shipping hash: an address and a name, optionally a phone (``""`` clears it).

    Raises InvalidRequest.
    """
    if value == "":
        return None
    given = to_dict(value, param)
    refuse_unknown(given, ("address", "name", "phone"), prefix=param)
    return {"address": to_address(required(given, "address", parent=param),
                                  f"{param}[address]"),
            "carrier": None,
            "name": to_str(required(given, "name", parent=param), f"{param}[name]"),
            "phone": optional_str(given, "phone"),
            "tracking_number": None}


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value
