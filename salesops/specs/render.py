"""Write an SOP back to text: YAML front matter in a stable key order, then the body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from salesops.specs.frontmatter_schema import SOP_KEY_ORDER
from salesops.specs.model import SopSpec


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key and writes multi-line text as `|` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    if "\n" in value:
        style = "|"
    elif "'" in value and '"' not in value and not dumper.analyze_scalar(value).allow_block_plain:
        # CEL string literals use single quotes, which YAML's single-quoted style would double.
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def ordered_front_matter(data: Mapping[str, Any]) -> dict[str, Any]:
    """Front matter keys in the documented order, unknown keys after them alphabetically."""
    known = [key for key in SOP_KEY_ORDER if key in data]
    rest = sorted(key for key in data if key not in SOP_KEY_ORDER)
    return {key: data[key] for key in [*known, *rest]}


def render_document(front_matter: Mapping[str, Any], body: str) -> str:
    """Markdown text with `front_matter` as YAML between `---` fences, then `body`."""
    dumped = yaml.dump(
        ordered_front_matter(front_matter),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return f"---\n{dumped}---\n\n{body}"


def render_sop(spec: SopSpec) -> str:
    """Text of an SOP such that parse_sop(render_sop(spec)) == spec (apart from `source`)."""
    return render_document(spec.front_matter, spec.body)
