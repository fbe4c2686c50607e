"""Generated blocks of the docs pages: the text between a pair of HTML comment markers, replaced by a report."""

from __future__ import annotations

import re
from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    """'<!-- name:start -->' and '<!-- name:end -->'."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_block(readme: Path, name: str, body: list[str]) -> None:
    """The block between the markers becomes `body` (appended with its markers when they are missing)."""
    start, end = markers(name)
    block = "\n".join([start, *body, end])
    text = readme.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    readme.write_text(pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block + "\n")
