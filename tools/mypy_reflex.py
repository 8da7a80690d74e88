"""A mypy plugin for Reflex's ``@rx.event``.

``rx.event`` is the class ``EventNamespace`` whose overloaded ``__new__`` returns an
``EventCallback`` typed by the handler's parameters. Pyright (which Reflex is typed
against) follows that; mypy ignores a ``__new__`` that returns another type and calls
every handler an ``EventNamespace``, so ``State.handler(arg)`` in a component reads as
"not callable". This hook gives ``rx.event(handler)`` the type the overload declares:
``EventCallback[<the handler's parameters after self>]``.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import CallableType, Instance, Type
from mypy.types import get_proper_type as proper

EVENT = "reflex_base.event.EventNamespace"
CALLBACK = "reflex_base.event.EventCallback"


def _event_callback(ctx: FunctionContext) -> Type:
    """``rx.event(handler)`` -> ``EventCallback[*handler's parameters after self]``."""
    given = [t for types in ctx.arg_types for t in types]
    handler = proper(given[0]) if given else None
    if not isinstance(handler, CallableType) or not handler.arg_types:
        return ctx.default_return_type  # @rx.event(options): left to mypy as it is
    api = ctx.api
    module, _, name = CALLBACK.rpartition(".")
    found = api.modules[module].names.get(name)  # type: ignore[attr-defined]
    if found is None or not isinstance(found.node, TypeInfo):
        return ctx.default_return_type
    # mypy keeps a variadic instance's arguments flat: EventCallback[str, int].
    return Instance(found.node, list(handler.arg_types[1:]))


class ReflexEvents(Plugin):
    """Types ``@rx.event`` handlers as Reflex's own overloads do."""

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        return _event_callback if fullname == EVENT else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return ReflexEvents
