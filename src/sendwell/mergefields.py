"""The merge fields a campaign's templates use, found in Jinja2's own syntax tree, and what covers an empty one.

A field renders empty for a recipient unless the template covers it:
`{{ f | default("x") }}` covers a missing field (Jinja2 replaces only undefined values),
`{{ f | default("x", true) }}`, `{% if f %}…{% endif %}` and `{{ f if f else "x" }}` cover a blank one too.
A field is as covered as its least covered use. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

import jinja2
import jinja2.meta
from jinja2 import nodes


class Cover(IntEnum):
    """How far the template covers an unfilled field (ordered: a field takes its least covered use)."""

    NONE = 0  # rendered as is: missing or blank shows as nothing
    MISSING = 1  # default(x): a missing field gets x, a blank one still shows blank
    ALL = 2  # default(x, true) or a guard ({% if f %}): never shown blank


# Names the message builder fills for every recipient (sending/message.py `_context`), not contact fields;
# `name` is built from the contact's name, or first_name and last_name, and can be blank.
BUILT_IN = frozenset({"email", "unsubscribe_url"})
NAME_SOURCES = ("name", "first_name", "last_name")
_ENV = jinja2.Environment()


@dataclass(frozen=True, slots=True)
class FieldUse:
    name: str
    cover: Cover


def _default_cover(f: nodes.Filter) -> Cover:
    """default(x) covers missing values; default(x, true) (or boolean=true) covers blank ones too."""
    boolean = f.args[1] if len(f.args) > 1 else next((k.value for k in f.kwargs if k.key == "boolean"), None)
    return Cover.ALL if isinstance(boolean, nodes.Const) and boolean.value else Cover.MISSING


def _root(node: nodes.Node) -> str | None:
    """The variable an expression reads when it is a plain name or an attribute/item of one (`a.b`, `a['b']`)."""
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return node.name if isinstance(node, nodes.Name) and node.ctx == "load" else None


def _tested(test: nodes.Node) -> dict[str, Cover]:
    """Names a test requires to be filled for its branch to run: `if f`, `if f.g`, `if f and g` (ALL), `if f is
    defined` (MISSING: a blank f passes it); not `if f or g`, where either may be blank."""
    if isinstance(test, nodes.And):
        left, right = _tested(test.left), _tested(test.right)
        return {n: max(left.get(n, Cover.NONE), right.get(n, Cover.NONE)) for n in left | right}
    level = Cover.ALL
    if isinstance(test, nodes.Test) and test.name == "defined":
        test, level = test.node, Cover.MISSING
    name = _root(test)
    return {name: level} if name else {}


def _use(uses: dict[str, Cover], name: str, level: Cover) -> None:
    uses[name] = min(uses.get(name, level), level)


def _walk(node: nodes.Node, cover: Cover, guarded: dict[str, Cover], uses: dict[str, Cover]) -> None:
    if isinstance(node, nodes.Filter) and node.name in ("default", "d") and node.node is not None:
        name = _root(node.node)
        if name is not None:
            _use(uses, name, max(cover, _default_cover(node), guarded.get(name, Cover.NONE)))
            for child in [*node.args, *node.kwargs]:
                _walk(child, cover, guarded, uses)
            return
    if isinstance(node, nodes.If | nodes.CondExpr):
        test, body = node.test, (node.body if isinstance(node, nodes.If) else [node.expr1])
        other = node.else_ if isinstance(node, nodes.If) else [node.expr2] if node.expr2 else []
        _walk(test, Cover.ALL, guarded, uses)  # a test of a blank field is not a blank in the message
        tested = _tested(test)
        inner = {n: max(guarded.get(n, Cover.NONE), tested.get(n, Cover.NONE)) for n in guarded | tested}
        for child in body:
            _walk(child, cover, inner, uses)
        for child in [*getattr(node, "elif_", []), *other]:
            _walk(child, cover, guarded, uses)
        return
    if isinstance(node, nodes.Name) and node.ctx == "load":
        _use(uses, node.name, max(cover, guarded.get(node.name, Cover.NONE)))
        return
    for child in node.iter_child_nodes():
        _walk(child, cover, guarded, uses)


def fields_used(sources: Iterable[str | None]) -> list[FieldUse]:
    """Every contact field the templates read (sorted by name), with how far the templates cover it blank.

    Names the templates set themselves ({% set %}, loop variables) and the builder's own (`email`,
    `unsubscribe_url`) are not fields. Raises jinja2.TemplateSyntaxError for a broken template.
    """
    uses: dict[str, Cover] = {}
    for source in sources:
        if not source:
            continue
        tree = _ENV.parse(source)
        free = jinja2.meta.find_undeclared_variables(tree)
        found: dict[str, Cover] = {}
        _walk(tree, Cover.NONE, {}, found)
        for name, level in found.items():
            if name in free and name not in BUILT_IN:
                uses[name] = min(uses.get(name, level), level)
    return [FieldUse(n, uses[n]) for n in sorted(uses)]
