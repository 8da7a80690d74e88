"""What an endpoint accepts, declared once beside its route: checked, and described.

Each endpoint declares its parameters as a tree of specs (``{"metadata":
Metadata(), "items": Array(Hash({...}))}``). The pipeline checks every request
against it before the handler runs — shapes, unknown names at any depth,
Stripe's limits (through the converters of :mod:`portal_app.api.forms`) — so a
malformed value is Stripe's 400 with its ``param`` wherever it hides, never a
500 inside a handler. The same tree describes the endpoint in the OpenAPI
document (:mod:`portal_app.api.openapi`): the description and the check cannot
disagree.

``""`` is Stripe's "unset" for any parameter: the check lets it through and the
handler decides what unsetting means (or that the parameter is required).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portal_app.api.forms import (
    one_of,
    refuse_unknown,
    required,
    to_amount,
    to_bool,
    to_dict,
    to_float,
    to_id,
    to_int,
    to_list,
    to_metadata,
    to_quantity,
    to_str,
    to_timestamp,
)
from portal_app.errors import InvalidRequest
from portal_app.limits import (
    LARGEST_AMOUNT,
    MAX_ID_LENGTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_QUANTITY,
    MAX_STRING_LENGTH,
    MAX_TIMESTAMP,
)


def nested(parent: str, key: str | int) -> str:
    """The bracketed name of ``key`` below ``parent`` (``items[0][price]``)."""
    return f"{parent}[{key}]" if parent else str(key)


def _ranged(kind: str, minimum: float | None, maximum: float | None) -> dict[str, Any]:
    """The JSON Schema of a number of ``kind`` within the bounds given."""
    bounds = {"minimum": minimum, "maximum": maximum}
    return {"type": kind, **{k: v for k, v in bounds.items() if v is not None}}


@dataclass(frozen=True)
class Spec:
    """One parameter's shape: :meth:`check` a decoded value, :meth:`json_schema` describe it."""

    description: str = field(default="", kw_only=True)

    def check(self, value: Any, param: str) -> None:
        """Raise InvalidRequest (with ``param``) unless ``value`` fits."""
        if value != "":
            self._check(value, param)

    def _check(self, value: Any, param: str) -> None:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (OpenAPI 3.1) of the value."""
        schema = self._json_schema()
        if self.description:
            schema["description"] = self.description
        return schema

    def _json_schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Anything(Spec):
    """A parameter nobody described yet (the OpenAPI test refuses it)."""

    def _check(self, value: Any, param: str) -> None:
        pass

    def _json_schema(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Str(Spec):
    """A string, at most ``max_length`` characters; one of ``enum`` when given."""

    max_length: int = MAX_STRING_LENGTH
    enum: tuple[str, ...] = ()

    def _check(self, value: Any, param: str) -> None:
        if self.enum:
            one_of(value, self.enum, param)
        else:
            to_str(value, param, max_length=self.max_length)

    def _json_schema(self) -> dict[str, Any]:
        if self.enum:
            return {"type": "string", "enum": list(self.enum)}
        return {"type": "string", "maxLength": self.max_length}


@dataclass(frozen=True)
class Id(Spec):
    """An object id (``cus_...``, or a merchant's own coupon id)."""

    def _check(self, value: Any, param: str) -> None:
        to_id(value, param)

    def _json_schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": MAX_ID_LENGTH, "pattern": r"^\S+$"}


@dataclass(frozen=True)
class Int(Spec):
    """An integer within ``minimum``..``maximum``."""

    minimum: int | None = None
    maximum: int | None = None

    def _check(self, value: Any, param: str) -> None:
        to_int(value, param, minimum=self.minimum, maximum=self.maximum)

    def _json_schema(self) -> dict[str, Any]:
        return _ranged("integer", self.minimum, self.maximum)


@dataclass(frozen=True)
class Amount(Spec):
    """Money in minor units; the handler re-checks it against its currency's bound."""

    def _check(self, value: Any, param: str) -> None:
        to_amount(value, param)

    def _json_schema(self) -> dict[str, Any]:
        return _ranged("integer", 0, LARGEST_AMOUNT)


@dataclass(frozen=True)
class Quantity(Spec):
    """A count of units, ``minimum``..``MAX_QUANTITY``."""

    minimum: int = 0

    def _check(self, value: Any, param: str) -> None:
        to_quantity(value, param, minimum=self.minimum)

    def _json_schema(self) -> dict[str, Any]:
        return _ranged("integer", self.minimum, MAX_QUANTITY)


@dataclass(frozen=True)
class Timestamp(Spec):
    """A Unix timestamp in seconds (or ``"now"`` where Stripe takes it)."""

    now: bool = False

    def _check(self, value: Any, param: str) -> None:
        if not (self.now and value == "now"):
            to_timestamp(value, param)

    def _json_schema(self) -> dict[str, Any]:
        seconds = _ranged("integer", 0, MAX_TIMESTAMP)
        return {"anyOf": [seconds, {"type": "string", "enum": ["now"]}]} if self.now else seconds


@dataclass(frozen=True)
class Decimal(Spec):
    """A finite decimal (a rate, never money), within ``minimum``..``maximum``."""

    minimum: float | None = None
    maximum: float | None = None

    def _check(self, value: Any, param: str) -> None:
        number = to_float(value, param)
        if self.minimum is not None and number < self.minimum:
            raise InvalidRequest(f"{param} must be at least {self.minimum:g}.", param=param)
        if self.maximum is not None and number > self.maximum:
            raise InvalidRequest(f"{param} must be at most {self.maximum:g}.", param=param)

    def _json_schema(self) -> dict[str, Any]:
        return _ranged("number", self.minimum, self.maximum)


@dataclass(frozen=True)
class Bool(Spec):
    """``true`` or ``false``."""

    def _check(self, value: Any, param: str) -> None:
        to_bool(value, param)

    def _json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Metadata(Spec):
    """The merchant's key-value pairs, within Stripe's limits."""

    def _check(self, value: Any, param: str) -> None:
        to_metadata(value, param)

    def _json_schema(self) -> dict[str, Any]:
        return {"type": "object", "maxProperties": MAX_METADATA_KEYS,
                "propertyNames": {"maxLength": MAX_METADATA_KEY_LENGTH,
                                  "pattern": r"^[^\[\]]+$"},
                "additionalProperties": {"type": "string",
                                         "maxLength": MAX_METADATA_VALUE_LENGTH}}


@dataclass(frozen=True)
class Map(Spec):
    """A hash whose keys are the caller's own (a meter event's payload, offers per reason)."""

    values: Spec = field(default_factory=Str)
    keys: tuple[str, ...] = ()  # when given, the only keys allowed

    def _check(self, value: Any, param: str) -> None:
        for key, item in to_dict(value, param).items():
            if self.keys:
                one_of(key, self.keys, nested(param, key))
            self.values.check(item, nested(param, key))

    def _json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object",
                                  "additionalProperties": self.values.json_schema()}
        if self.keys:
            schema["propertyNames"] = {"enum": list(self.keys)}
        else:
            schema["propertyNames"] = {"pattern": r"^[^\[\]]+$"}
        return schema


@dataclass(frozen=True)
class Hash(Spec):
    """A hash of named ``fields``; ``required`` ones must be given and not empty."""

    fields: Mapping[str, Spec] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    def _check(self, value: Any, param: str) -> None:
        given = to_dict(value, param)
        refuse_unknown(given, self.fields, prefix=param)
        for name in self.required:
            required(given, name, parent=param or None)
        for name, item in given.items():
            self.fields[name].check(item, nested(param, name))

    def _json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in self.fields.items()},
            "additionalProperties": False}
        if self.required:
            schema["required"] = list(self.required)
        return schema


@dataclass(frozen=True)
class Array(Spec):
    """A list of ``items`` (``name[0]=..`` or ``name[]=..``), at most ``max_items``."""

    items: Spec = field(default_factory=Str)
    max_items: int | None = None

    def _check(self, value: Any, param: str) -> None:
        given = to_list(value, param)
        if self.max_items is not None and len(given) > self.max_items:
            raise InvalidRequest(f"{param} can have at most {self.max_items} items, but you "
                                 f"passed in {len(given)}.", param=param)
        for i, item in enumerate(given):
            self.items.check(item, nested(param, i))

    def _json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.items.json_schema()}
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema


EXPAND = Array(Str(), description="Fields of the response to expand (dotted paths).")


def body(params: Mapping[str, Spec] | Iterable[str], *, required: tuple[str, ...] = ()
         ) -> Hash:
    """An endpoint's parameters as one :class:`Hash` (with Stripe's ``expand``).

    Names given without a spec are :class:`Anything` (the OpenAPI test lists them).
    """
    fields = (dict(params) if isinstance(params, Mapping)
              else {name: Anything() for name in params})
    fields.setdefault("expand", EXPAND)
    return Hash(fields, required=required)
