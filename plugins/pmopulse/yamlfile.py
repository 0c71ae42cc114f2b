"""The one way PMO Pulse reads YAML: safe loading, and duplicate keys are an error.

PyYAML silently keeps the last of two equal keys, so a contract or catalogue edited by
hand could lose a column or a threshold without anyone noticing.

Aliases are bounded: nine lines of ten aliases each ("billion laughs") make a document
whose expanded form has a billion nodes. PyYAML shares the aliased objects, so loading
succeeds, but the first walk over the result (checking its keys, printing it) never ends.
The composed document is therefore measured, aliases expanded in the count only, before
anything is built from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pmopulse.errors import ConfigError

# libyaml's parser where PyYAML was built with it (its wheels are): twenty times faster on
# the KPI catalogue than the pure-Python one, with the same safe constructor.
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

MAX_BYTES = 5 * 1024 * 1024
"""A config, model, catalogue or contract is a few hundred kilobytes at most."""
MAX_ALIASES = 100
"""Uses of `*anchor` in one document."""
MAX_EXPANDED_NODES = 100_000
"""Nodes the aliases may add when expanded, beyond the document's own."""


class _StrictSafeLoader(_SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path, what: str = "file") -> Any:
    """Parse a YAML file; a missing, oversized or bad file raises ConfigError naming it."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{what} {path} is {size / 1024 / 1024:.1f} MB; a YAML file may be at "
                              f"most {MAX_BYTES // 1024 // 1024} MB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    loader = _StrictSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node, f"{what} {path}")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _check_aliases(root: yaml.Node, where: str) -> None:
    """Refuse a document with more than MAX_ALIASES aliases, an alias inside its own anchor,
    or aliases whose expansion adds more than MAX_EXPANDED_NODES nodes. An alias composes to
    the anchored node itself, so a node reached more than once is an alias's target."""
    expanded: dict[int, int] = {}      # node id -> nodes in its expanded form
    references = 0                     # edges to children, aliases included
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if done:
            active.discard(id(node))
            expanded[id(node)] = 1 + sum(expanded[id(c)] for c in children)
            continue
        if id(node) in expanded:
            continue
        if id(node) in active:
            raise ConfigError(f"{where}: an alias at line {node.start_mark.line + 1} refers to "
                              "the node that contains it; aliases must not be recursive")
        active.add(id(node))
        stack.append((node, True))
        references += len(children)
        for child in children:
            if id(child) in active:
                raise ConfigError(f"{where}: an alias at line {node.start_mark.line + 1} refers "
                                  "to a node that contains it; aliases must not be recursive")
            if id(child) not in expanded:
                stack.append((child, False))
    aliases = references - (len(expanded) - 1)
    if aliases > MAX_ALIASES:
        raise ConfigError(f"{where} uses {aliases} aliases (*name); at most {MAX_ALIASES} are "
                          "allowed: write the values out")
    if expanded[id(root)] - len(expanded) > MAX_EXPANDED_NODES:
        raise ConfigError(f"{where}: its aliases (*name) expand to {expanded[id(root)]:,} nodes, "
                          f"more than {MAX_EXPANDED_NODES:,} beyond the document's own; "
                          "write the values out")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
