"""Mutation testing: would the tests notice if the money, session, proration, discount,
offer-eligibility or statistics code were subtly wrong?

    .venv/bin/python bench/mutation.py                 # every module, one worker per core
    .venv/bin/python bench/mutation.py --only sessions,stats --workers 2
    .venv/bin/python bench/mutation.py --list          # the mutants, without running them

A small ``ast`` mutator (no dependency beyond the dev extras). Each target module is
instrumented once, in a throw-away copy of the working tree (this tree is never
touched): every mutation point becomes a call into a switch module that applies the
original operation, or the mutated one when that point is the active mutant. The
operators:

* arithmetic ``+ - * / // % **`` (and their augmented assignments): ``+``↔``-``,
  ``*``↔``/``, ``//``→``/``, ``%``→``/``, ``**``→``*``;
* comparisons ``< <= > >= == !=``: ``<``↔``<=``, ``>``↔``>=``, ``==``↔``!=``;
* constants: ``0``→``1``, ``1``→``0``/``2``, ``n``→``n+1``/``n-1`` (ints and floats),
  ``True``↔``False``;
* ``and``↔``or``; ``return x`` → ``return None``.

Each mutant runs only its module's test files (the list below), in a child forked from
a worker that has already imported the project and collected those tests, so a mutant
costs about its tests' own run time. Mutants evaluated at import time (module
constants, default arguments) run in a fresh interpreter instead. A first, unmutated
run per module must pass; it also records which mutation points the tests reach (a
point never reached is reported as such, not run). A mutant is *killed* when its tests
fail (or time out, or crash), *survived* otherwise. Known equivalent mutants (a change
no test can observe because the behaviour is the same) are listed in ``EQUIVALENT`` with
the reason, and left out of the score.

Prints per module: mutants, killed, survived, not reached, equivalent, score; then every
survivor (file:line, function, the code, the mutation). Exit status 1 when the score of
non-equivalent mutants is under ``--fail-under`` (default 90 %).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SWITCH = "_mutation_switch"


@dataclass(frozen=True)
class Target:
    """A module to mutate, the tests that should notice, optionally only some functions."""

    name: str
    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()  # top-level functions to mutate (empty: the whole file)


DOCTESTS = "tests/test_doctests.py::test_documented_examples_hold"
TARGETS = (
    Target("money", "portal_app/money.py",
           ("tests/portal_app/test_money.py", f"{DOCTESTS}[portal_app.money]")),
    Target("sessions", "portal_app/portal/sessions.py",
           ("tests/portal_app/portal/test_session_lifetime.py",
            "tests/portal_app/portal/test_sessions.py",
            "tests/portal_app/web/test_portal_links.py",
            "tests/portal_app/api/test_billing_portal.py")),
    Target("prorations", "portal_app/billing/prorations.py",
           ("tests/portal_app/billing/test_cancellations.py",
            "tests/portal_app/billing/test_changes.py",
            "tests/portal_app/billing/test_discounts.py",
            "tests/portal_app/billing/test_meters.py::"
            "test_an_immediate_cancel_with_invoice_now_bills_usage_up_to_now")),
    Target("discounts", "portal_app/billing/discounts.py",
           ("tests/portal_app/billing/test_discount_rules.py",
            "tests/portal_app/billing/test_discounts.py",
            "tests/portal_app/billing/test_coupons.py",
            "tests/portal_app/billing/test_cancellations.py",
            "tests/portal_app/billing/test_changes.py")),
    Target("offers", "portal_app/retention/offers.py",
           ("tests/portal_app/retention/test_offers.py",
            "tests/portal_app/retention/test_flows.py"),
           functions=("check_eligibility", "_type_rule", "_retrieve_or_none", "_interval",
                      "ensure_eligible", "eligible_offers", "offer_for_reason")),
    Target("stats", "analytics/stats.py",
           ("tests/analytics/test_stats.py", "tests/analytics/test_experiments.py",
            f"{DOCTESTS}[analytics.stats]")),
)

# Mutants no test can tell from the original, keyed by (module, function, code, mutation):
# the reason is printed with them and they are left out of the score.
_QUANTIZE = ("Decimal.quantize reads only its argument's exponent: Decimal(0), (1) and (2) "
             "all round to whole units")
_SIGN_OF_ZERO = "only amount == 0 changes sides, and its proration is 0 either way"
_LONGER_SECRET = "33 random bytes also meet the design's '≥ 256 bits' (31 are refused)"
_ACKLAM_REGIONS = ("at the edge of Acklam's central region both approximations hold "
                   "(1.15e-9) and the Newton steps polish either to double precision")
_NEWTON = ("one Newton step from Acklam's 1.15e-9 already reaches double precision "
           "(quadratic convergence); a third changes nothing")
_GAMMA_SPLIT = ("the series and the continued fraction both converge on either side of "
                "x = a + 1: the split only picks the faster one")
_CAP = "an iteration cap never reached (both converge in a few hundred steps at most)"
_STOP = "a float convergence test: equality at the threshold costs one negligible term"
_LENTZ_GUARD = "Lentz's guard against an exact zero: |c| or |d| == 1e-300 never happens"
_LENTZ_START = "Lentz's starting C need only be huge: an / c is 0 either way"
_P_CAP = "2·P(Z > |z|) never exceeds 1 (it is 1 at z = 0)"
_UNUSED_RESULT = "no caller uses the Discount it returns"
_EQUIVALENT: list[tuple[str, str, str, str, str, str]] = [
    # (module, function, the statement's first line, the code, the mutation, why)
    ("money", "round_half_up", "return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))",
     "1", "1 → 0", _QUANTIZE),
    ("money", "round_half_up", "return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))",
     "1", "1 → 2", _QUANTIZE),
    ("money", "prorate", "sign = -1 if amount < 0 else 1", "0", "0 → 1", _SIGN_OF_ZERO),
    ("money", "prorate", "sign = -1 if amount < 0 else 1", "amount < 0", "< → <=",
     _SIGN_OF_ZERO),
    ("sessions", "create_session", "token = secrets.token_urlsafe(32)  # 256 bits", "32",
     "32 → 33", _LONGER_SECRET),
    ("sessions", "open_session", "secret = secrets.token_urlsafe(32)", "32", "32 → 33",
     _LONGER_SECRET),
    ("discounts", "apply_coupon", "coupon.max_redemptions is not None and "
     "coupon.times_redeemed >= coupon.max_redemptions",
     "coupon.times_redeemed >= coupon.max_redemptions", ">= → >",
     "record_redemption's conditional UPDATE then refuses it, with the same coupon_expired"),
    ("discounts", "apply_coupon",
     "if coupon.duration == CouponDuration.repeating and coupon.duration_in_months:",
     "coupon.duration == CouponDuration.repeating and coupon.duration_in_...", "and → or",
     "create_coupon gives duration_in_months to repeating coupons, always and only"),
    ("discounts", "apply_coupon", "return discount", "return discount",
     "return … → return None", _UNUSED_RESULT),
    ("discounts", "replace_discount",
     "return apply_coupon(coupon_id, sub=sub, account_id=account_id, uow=uow)",
     "return apply_coupon(coupon_id, sub=sub, account_id=account_id, uow=...",
     "return … → return None", _UNUSED_RESULT),
    ("discounts", "replace_discount", "if discount.end is None or discount.end > now:",
     "discount.end > now", "> → >=", "a discount that ends exactly now is ended now either way"),
    ("discounts", "discount_amount", "return min(subtotal, coupon.amount_off or 0)", "0",
     "0 → 1", "a coupon has exactly one of percent_off and amount_off: here amount_off is set"),
    ("discounts", "line_discount", "return 0", "return 0", "return … → return None",
     "the ORM stores None in a column with a default as that default: 0"),
    ("discounts", "discount_lines", "for line, share in zip(lines, spread(total, "
     "[ln.amount for ln in lines]), strict=True):", "True", "True → False",
     "spread returns one share per line: zip's strictness never matters"),
    ("stats", "normal_ppf", "if p < low:", "p < low", "< → <=", _ACKLAM_REGIONS),
    ("stats", "normal_ppf", "elif p <= 1 - low:", "p <= 1 - low", "<= → <", _ACKLAM_REGIONS),
    ("stats", "normal_ppf", "for _ in range(2):", "2", "2 → 3", _NEWTON),
    ("stats", "normal_ppf", "for _ in range(2):", "2", "2 → 1", _NEWTON),
    ("stats", "_upper_gamma_regularized", "if x < a + 1:", "1", "1 → 0", _GAMMA_SPLIT),
    ("stats", "_upper_gamma_regularized", "if x < a + 1:", "1", "1 → 2", _GAMMA_SPLIT),
    ("stats", "_upper_gamma_regularized", "if x < a + 1:", "x < a + 1", "< → <=",
     _GAMMA_SPLIT),
    ("stats", "_upper_gamma_regularized", "for _ in range(10_000):", "10_000",
     "10000 → 10001", _CAP),
    ("stats", "_upper_gamma_regularized", "for _ in range(10_000):", "10_000",
     "10000 → 9999", _CAP),
    ("stats", "_upper_gamma_regularized", "for i in range(1, 10_000):", "10_000",
     "10000 → 10001", _CAP),
    ("stats", "_upper_gamma_regularized", "for i in range(1, 10_000):", "10_000",
     "10000 → 9999", _CAP),
    ("stats", "_upper_gamma_regularized", "if abs(term) < abs(total) * 1e-17:",
     "abs(term) < abs(total) * 1e-17", "< → <=", _STOP),
    ("stats", "_upper_gamma_regularized", "if abs(delta - 1) < 1e-16:",
     "abs(delta - 1) < 1e-16", "< → <=", _STOP),
    ("stats", "_upper_gamma_regularized", "d = tiny if abs(d) < tiny else d", "abs(d) < tiny",
     "< → <=", _LENTZ_GUARD),
    ("stats", "_upper_gamma_regularized", "c = tiny if abs(c) < tiny else c", "abs(c) < tiny",
     "< → <=", _LENTZ_GUARD),
    ("stats", "_upper_gamma_regularized", "c = 1 / tiny", "1", "1 → 2", _LENTZ_START),
    ("stats", "two_proportion_test", "p_value = min(1.0, 2 * normal_sf(abs(z)))", "1.0",
     "1.0 → 2.0", _P_CAP),
]
EQUIVALENT: dict[tuple[str, str, str, str, str], str] = {
    entry[:5]: entry[5] for entry in _EQUIVALENT}


# --- the mutants ---------------------------------------------------------------------------

BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
          ast.Mod: "%", ast.Pow: "**"}
BINARY_MUTANTS = {"+": ("-",), "-": ("+",), "*": ("/",), "/": ("*",), "//": ("/",),
                  "%": ("/",), "**": ("*",)}
COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!="}
COMPARE_MUTANTS = {"<": ("<=",), "<=": ("<",), ">": (">=",), ">=": (">",), "==": ("!=",),
                   "!=": ("==",)}


@dataclass
class Mutant:
    """One mutation of one point of a target module."""

    id: int
    target: str
    path: str
    line: int
    function: str
    source_line: str  # the statement's first line, stripped: names the mutant across edits
    code: str
    kind: str  # binop | compare | constant | boolop | return
    original: str
    replacement: str
    point: int
    import_time: bool
    status: str = "pending"  # killed | survived | not reached | timeout | pending

    @property
    def mutation(self) -> str:
        return f"{self.original} → {self.replacement}"

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.target, self.function, self.source_line, self.code, self.mutation)

    @property
    def equivalent(self) -> bool:
        """Listed as equivalent and indeed not killed."""
        return self.key in EQUIVALENT and self.status in ("survived", "not reached")


def _constant_mutants(value: Any) -> tuple[Any, ...]:
    if isinstance(value, bool):
        return (not value,)
    if isinstance(value, float) and not (value * 2).is_integer():
        return ()  # a coefficient or a tolerance: ±1 is no subtle slip, and costs runs
    if isinstance(value, int | float):
        if value == 0:
            return (type(value)(1),)
        if value == 1:
            return (type(value)(0), type(value)(2))
        return (value + 1, value - 1)
    return ()


def _load(node: ast.expr) -> ast.expr:
    """A copy of an assignment target that reads it."""
    node = copy.deepcopy(node)
    for inner in ast.walk(node):
        if hasattr(inner, "ctx"):
            inner.ctx = ast.Load()
    return node


class Instrument(ast.NodeTransformer):
    """Replace every mutation point of a module by a call into the switch module."""

    def __init__(self, target: Target, source: str, first_point: int, first_id: int) -> None:
        self.target, self.source = target, source
        self.lines = source.splitlines()
        self.point, self.next_id = first_point, first_id
        self.mutants: list[Mutant] = []
        self.scope: list[str] = []
        self.depth = 0  # > 0 inside a function body: runs when called, not at import

    # which code is mutated ------------------------------------------------------------

    def _active(self) -> bool:
        return not self.target.functions or bool(
            self.scope and self.scope[0] in self.target.functions)

    def _new_point(self, node: ast.AST, kind: str, original: str,
                   replacements: tuple[str, ...], code: str | None = None) -> int:
        point = self.point
        self.point += 1
        if code is None:
            code = " ".join((ast.get_source_segment(self.source, node) or "").split())
        for replacement in replacements:
            self.mutants.append(Mutant(
                id=self.next_id, target=self.target.name, path=self.target.path,
                line=getattr(node, "lineno", 0), function=".".join(self.scope) or "<module>",
                source_line=self.lines[getattr(node, "lineno", 1) - 1].strip(),
                code=code if len(code) <= 70 else code[:67] + "...", kind=kind,
                original=original, replacement=replacement, point=point,
                import_time=self.depth == 0))
            self.next_id += 1
        return point

    @staticmethod
    def _call(helper: str, *args: ast.expr) -> ast.Call:
        return ast.Call(func=ast.Attribute(value=ast.Name(id="_mx", ctx=ast.Load()),
                                           attr=helper, ctx=ast.Load()),
                        args=list(args), keywords=[])

    # scopes: annotations are never mutated; function bodies run later -----------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        self.scope.append(node.name)  # decorators are configuration: left alone
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [d if d is None else self.visit(d)
                                 for d in node.args.kw_defaults]
        self.depth += 1
        node.body = [self.visit(statement) for statement in node.body]
        self.depth -= 1
        self.scope.pop()
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        self.depth += 1
        node.body = self.visit(node.body)
        self.depth -= 1
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.scope.append(node.name)
        node.body = [self.visit(statement) for statement in node.body]
        self.scope.pop()
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # messages: their words are not the behaviour under test

    # the operators ----------------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op = BINARY.get(type(node.op))
        if op is None or not self._active():
            return node
        point = self._new_point(node, "binop", op, BINARY_MUTANTS[op])
        return ast.copy_location(self._call("binop", ast.Constant(point), ast.Constant(op),
                                            node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        op = BINARY.get(type(node.op))
        if op is None or not self._active():
            return node
        point = self._new_point(node, "binop", op + "=",
                                tuple(m + "=" for m in BINARY_MUTANTS[op]))
        value = self._call("binop", ast.Constant(point), ast.Constant(op + "="),
                           _load(node.target), node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        # a chain's links are named by their own two operands (read before instrumenting)
        values = [ast.get_source_segment(self.source, v) or "" for v in
                  (node.left, *node.comparators)]
        self.generic_visit(node)
        ops = [COMPARE.get(type(op)) for op in node.ops]
        if None in ops or not self._active():
            return node
        points = [self._new_point(node, "compare", op, COMPARE_MUTANTS[op], code=None
                                  if len(ops) == 1 else f"{values[i]} {op} {values[i + 1]}")
                  for i, op in enumerate(ops) if op is not None]
        call = self._call("compare", ast.Tuple([ast.Constant(p) for p in points], ast.Load()),
                          ast.Tuple([ast.Constant(op) for op in ops], ast.Load()),
                          node.left, *node.comparators)
        return ast.copy_location(call, node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if not self._active() or any(isinstance(n, ast.Yield | ast.YieldFrom | ast.Await
                                                | ast.NamedExpr)
                                     for value in node.values for n in ast.walk(value)):
            return node
        op = "and" if isinstance(node.op, ast.And) else "or"
        point = self._new_point(node, "boolop", op, ("or" if op == "and" else "and",))
        thunks = [ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[],
                                                kw_defaults=[], defaults=[]), body=value)
                  for value in node.values]
        return ast.copy_location(self._call("boolop", ast.Constant(point), ast.Constant(op),
                                            *thunks), node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        replacements = _constant_mutants(node.value)
        if not replacements or not self._active():
            return node
        point = self._new_point(node, "constant", repr(node.value),
                                tuple(repr(r) for r in replacements))
        return ast.copy_location(self._call("constant", ast.Constant(point), node), node)

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if node.value is None or not self._active() or (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return node
        point = self._new_point(node, "return", "return …", ("return None",))
        node.value = self._call("returned", ast.Constant(point), node.value)
        return node


def instrument(target: Target, source: str, *, first_point: int, first_id: int
               ) -> tuple[str, list[Mutant], int]:
    """The module's source with every mutation point switchable, its mutants, the next point."""
    tree = ast.parse(source)
    visitor = Instrument(target, source, first_point, first_id)
    tree = visitor.visit(tree)
    body = tree.body
    at = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        at = 1
    while at < len(body) and isinstance(body[at], ast.ImportFrom) \
            and body[at].module == "__future__":
        at += 1
    body.insert(at, ast.Import(names=[ast.alias(name=SWITCH, asname="_mx")]))
    tree = ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    compile(text, target.path, "exec")
    return text, visitor.mutants, visitor.point


SWITCH_SOURCE = '''"""Mutation switch (generated by bench/mutation.py): at most one point is mutated."""
import ast
import operator
import os

BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
          "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
          "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
          "**=": operator.ipow}
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
           "==": operator.eq, "!=": operator.ne}
POINT = -1
ALT = ""
VALUE = None
REACHED = set()


def activate(point, alt):
    global POINT, ALT, VALUE
    POINT, ALT = point, alt
    try:
        VALUE = ast.literal_eval(alt)
    except (ValueError, SyntaxError):
        VALUE = None


activate(int(os.environ.get("PORTICO_MUTANT_POINT", "-1")),
         os.environ.get("PORTICO_MUTANT_ALT", ""))


def binop(point, op, left, right):
    REACHED.add(point)
    return BINARY[ALT if point == POINT else op](left, right)


def compare(points, ops, *values):
    # as Python chains them: the first false link, else the last result (which may be
    # an SQL expression: never made a bool here)
    result = None
    for point, op, left, right in zip(points, ops, values, values[1:]):
        REACHED.add(point)
        result = COMPARE[ALT if point == POINT else op](left, right)
        if len(points) > 1 and not result:
            return result
    return result


def boolop(point, op, *thunks):
    REACHED.add(point)
    if point == POINT:
        op = ALT
    value = None
    for thunk in thunks:
        value = thunk()
        if (not value) if op == "and" else value:
            return value
    return value


def constant(point, value):
    REACHED.add(point)
    return VALUE if point == POINT else value


def returned(point, value):
    REACHED.add(point)
    return None if point == POINT else value
'''


# --- the copy of the tree ------------------------------------------------------------------


def tree_files() -> list[str]:
    """The working tree's files as git sees them (tracked and new, not ignored)."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                             check=True, capture_output=True).stdout.decode()
        return [f for f in out.split("\0") if f and (ROOT / f).is_file()]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".web", ".tools", "node_modules", "__pycache__", ".make"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def make_copy(targets: list[Target]) -> tuple[Path, list[Mutant]]:
    """A copy of the tree with the targets instrumented; the mutants."""
    workdir = Path(tempfile.mkdtemp(prefix="portico-mutation-"))
    for name in tree_files():
        if name.startswith((".web/", ".tools/")):
            continue
        destination = workdir / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination)
    (workdir / f"{SWITCH}.py").write_text(SWITCH_SOURCE)
    mutants: list[Mutant] = []
    point = 0
    for target in targets:
        source = (ROOT / target.path).read_text()
        text, found, point = instrument(target, source, first_point=point,
                                        first_id=len(mutants))
        (workdir / target.path).write_text(text)
        mutants.extend(found)
    return workdir, mutants


# --- workers: warm interpreters that fork one child per run -------------------------------


def worker_main(workdir: str, database: str) -> None:
    """Read runs (JSON lines) on stdin, answer each with a JSON line."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.chdir(workdir)
    sys.path.insert(0, workdir)
    os.environ["DATABASE_URL"] = database
    import _mutation_switch as switch  # type: ignore[import-not-found]
    import pytest
    warmed = False
    for line in sys.stdin:
        job = json.loads(line)
        if not warmed:  # import the project and the tests once, before the first fork
            with contextlib.redirect_stdout(io.StringIO()):
                pytest.main([*job["warm"], "--collect-only", "-q", "-p", "no:cacheprovider"])
            warmed = True
        started = time.monotonic()
        status = _spawned(job, workdir) if job["import_time"] else _forked(job, pytest, switch)
        out.write(json.dumps({"id": job["id"], "status": status,
                              "seconds": time.monotonic() - started}) + "\n")


def _pytest_args(job: dict[str, Any]) -> list[str]:
    return [*job["tests"], "-x", "-q", "-p", "no:cacheprovider", "-W", "ignore"]


def _forked(job: dict[str, Any], pytest: Any, switch: Any) -> str:
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        code = 3
        if job.get("log"):  # the baseline's output, shown if it fails
            log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(log, 1)
            os.dup2(log, 2)
        try:
            from portal_app import db, settings
            db.get_engine.cache_clear()
            settings.get_settings.cache_clear()
            switch.activate(job["point"], job["alt"])
            switch.REACHED.clear()
            code = int(pytest.main(_pytest_args(job)))
            if job.get("reached"):
                Path(job["reached"]).write_text(json.dumps(sorted(switch.REACHED)))
        finally:
            os._exit(code)
    deadline = time.monotonic() + job["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return _status(os.waitstatus_to_exitcode(status))
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.02)


def _spawned(job: dict[str, Any], workdir: str) -> str:
    env = {**os.environ, "PORTICO_MUTANT_POINT": str(job["point"]),
           "PORTICO_MUTANT_ALT": job["alt"], "PYTHONPATH": workdir}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *_pytest_args(job)], cwd=workdir,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=job["timeout"] + 20, start_new_session=True)
    except subprocess.TimeoutExpired:
        return "timeout"
    return _status(done.returncode)


def _status(code: int) -> str:
    if code == 0:
        return "survived"
    if code == 5:  # no tests ran: the run proves nothing
        return "error: no tests collected"
    return "killed"


@dataclass
class Worker:
    """A worker process and the pipe to it."""

    process: subprocess.Popen[str]

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("a mutation worker died")
        result: dict[str, Any] = json.loads(answer)
        return result


def start_workers(count: int, workdir: Path) -> list[Worker]:
    """Worker processes, each with its own migrated SQLite database."""
    template = workdir / "mutation-template.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{template}", "PYTHONPATH": str(workdir)}
    subprocess.run([sys.executable, "-c", "from portal_app.migrate import upgrade; upgrade()"],
                   cwd=workdir, env=env, check=True, capture_output=True)
    workers = []
    for slot in range(count):
        database = workdir / f"mutation-{slot}.db"
        shutil.copy(template, database)
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(workdir),
             f"sqlite:///{database}"], cwd=workdir, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(workdir)})
        workers.append(Worker(process))
    return workers


def run_all(workers: list[Worker], jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``jobs`` on the workers, each taking the next job when free."""
    todo: queue.Queue[dict[str, Any]] = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def serve(worker: Worker) -> None:
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            result = worker.run(job)
            with lock:
                results.append(result)
                done = len(results)
                if done % 25 == 0 or done == len(jobs):
                    print(f"  {done}/{len(jobs)} runs", flush=True)

    threads = [threading.Thread(target=serve, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- the report ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of one module (or all)."""

    mutants: int = 0
    killed: int = 0
    survived: int = 0
    not_reached: int = 0
    equivalent: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        relevant = self.mutants - self.equivalent
        return 100.0 * self.killed / relevant if relevant else 100.0


def tally(mutants: list[Mutant]) -> Tally:
    counts = Tally(mutants=len(mutants))
    for mutant in mutants:
        if mutant.equivalent:
            counts.equivalent += 1
        elif mutant.status in ("killed", "timeout"):
            counts.killed += 1
        elif mutant.status == "not reached":
            counts.not_reached += 1
        elif mutant.status == "survived":
            counts.survived += 1
        else:
            counts.errors.append(f"{mutant.path}:{mutant.line} {mutant.status}")
    return counts


def report(targets: list[Target], mutants: list[Mutant], seconds: float, workers: int) -> Tally:
    print()
    print(f"{'module':<12}{'mutants':>8}{'killed':>8}{'survived':>9}{'unreached':>10}"
          f"{'equiv.':>8}{'score':>8}")
    for target in targets:
        counts = tally([m for m in mutants if m.target == target.name])
        print(f"{target.name:<12}{counts.mutants:>8}{counts.killed:>8}{counts.survived:>9}"
              f"{counts.not_reached:>10}{counts.equivalent:>8}{counts.score:>7.1f}%")
    total = tally(mutants)
    print(f"{'all':<12}{total.mutants:>8}{total.killed:>8}{total.survived:>9}"
          f"{total.not_reached:>10}{total.equivalent:>8}{total.score:>7.1f}%")
    survivors = [m for m in mutants if not m.equivalent
                 and m.status in ("survived", "not reached")]
    if survivors:
        print("\nSurvivors (no test noticed):")
        for m in survivors:
            note = " [not reached by the tests]" if m.status == "not reached" else ""
            print(f"  {m.path}:{m.line} {m.function}: `{m.code}`  {m.mutation}{note}")
    equivalent = [m for m in mutants if m.equivalent]
    if equivalent:
        print("\nEquivalent (left out of the score):")
        for m in equivalent:
            print(f"  {m.path}:{m.line} {m.function}: `{m.code}`  {m.mutation}: "
                  f"{EQUIVALENT[m.key]}")
    for error in total.errors:
        print(f"  error: {error}")
    names = {t.name for t in targets}
    for key in sorted(set(EQUIVALENT) - {m.key for m in mutants if m.equivalent}):
        if key[0] in names:
            print(f"  note: listed as equivalent, but killed or gone: {key}")
    timeouts = sum(m.status == "timeout" for m in mutants)
    print(f"\n{total.killed} of {total.mutants - total.equivalent} non-equivalent mutants "
          f"killed ({total.score:.1f}%; {timeouts} by timeout), {total.equivalent} equivalent; "
          f"{seconds:.0f} s with {workers} worker(s)")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated module names: "
                        + ", ".join(t.name for t in TARGETS))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--keep", action="store_true", help="keep the instrumented copy")
    parser.add_argument("--fail-under", type=float, default=90.0)
    parser.add_argument("--json", help="also write every mutant and its status here")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(*args.worker)
        return 0
    targets = [t for t in TARGETS if not args.only or t.name in args.only.split(",")]
    started = time.monotonic()
    workdir, mutants = make_copy(targets)
    try:
        if args.list:
            for m in mutants:
                print(f"{m.path}:{m.line} {m.function}: `{m.code}`  {m.mutation}"
                      f"{'  (import time)' if m.import_time else ''}")
            print(f"{len(mutants)} mutants")
            return 0
        print(f"{len(mutants)} mutants in {len(targets)} modules; copy in {workdir}", flush=True)
        workers = start_workers(max(1, args.workers), workdir)
        warm = sorted({test.split("::")[0] for t in targets for test in t.tests})
        try:
            timeouts = baselines(workers, targets, mutants, workdir, warm)
            jobs: list[dict[str, Any]] = [{"id": m.id, "point": m.point, "alt": m.replacement, "warm": warm,
                     "tests": list(next(t for t in targets if t.name == m.target).tests),
                     "timeout": timeouts[m.target], "import_time": m.import_time}
                    for m in mutants if m.status == "pending"]
            jobs.sort(key=lambda job: -job["timeout"])  # the slow ones first
            print(f"running {len(jobs)} mutants on {len(workers)} worker(s)", flush=True)
            by_id = {m.id: m for m in mutants}
            for result in run_all(workers, jobs):
                by_id[result["id"]].status = result["status"]
        finally:
            for worker in workers:
                assert worker.process.stdin is not None
                worker.process.stdin.close()
                worker.process.wait()
        total = report(targets, mutants, time.monotonic() - started, len(workers))
        if args.json:
            Path(args.json).write_text(json.dumps([asdict(m) for m in mutants], indent=1))
        return 0 if total.score >= args.fail_under and not total.errors else 1
    finally:
        if args.keep:
            print(f"instrumented copy kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def baselines(workers: list[Worker], targets: list[Target], mutants: list[Mutant],
              workdir: Path, warm: list[str]) -> dict[str, float]:
    """Run each module's tests unmutated: they must pass; note what they reach and how long
    they take (a mutant gets several times that before it counts as a timeout)."""
    jobs = [{"id": i, "point": -1, "alt": "", "warm": warm, "tests": list(t.tests),
             "timeout": 600, "import_time": False, "reached": str(workdir / f"reached-{i}.json"),
             "log": str(workdir / f"baseline-{i}.log")} for i, t in enumerate(targets)]
    print(f"baseline runs of {len(targets)} modules' tests", flush=True)
    timeouts = {}
    for result in run_all(workers, jobs):
        target = targets[result["id"]]
        if result["status"] != "survived":
            log = Path(jobs[result["id"]]["log"]).read_text().splitlines()
            raise SystemExit("\n".join(log[-40:]) + f"\nthe tests of {target.name} fail "
                             f"without any mutant ({result['status']}): "
                             f"{' '.join(target.tests)}")
        reached = set(json.loads(Path(jobs[result["id"]]["reached"]).read_text()))
        for m in mutants:
            if m.target == target.name and not m.import_time and m.point not in reached:
                m.status = "not reached"
        timeouts[target.name] = 3 * result["seconds"] + 15
        print(f"  {target.name}: tests pass in {result['seconds']:.1f} s", flush=True)
    return timeouts


if __name__ == "__main__":
    sys.exit(main())
