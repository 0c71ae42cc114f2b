"""The one way PMO Pulse reads YAML: safe loading, and duplicate keys are an error.

PyYAML silently keeps the last of two equal keys, so a contract or catalogue edited by
hand could lose a column or a threshold without anyone noticing.
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
    """Parse a YAML file; a missing file or bad YAML raises ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from None
