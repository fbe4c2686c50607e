"""Generated blocks: the text between a pair of markers replaced, the rest untouched, the block added when missing."""

from __future__ import annotations

from pathlib import Path

from training.studies.readme import markers, replace_block


def test_the_block_between_the_markers_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    start, end = markers("loo")
    page.write_text(f"# Title\n\n{start}\nold table\n{end}\n\nafter\n")
    replace_block(page, "loo", ["| a |", "| 1 |"])
    assert page.read_text() == f"# Title\n\n{start}\n| a |\n| 1 |\n{end}\n\nafter\n"
    replace_block(page, "loo", ["new"])  # again: still one block
    assert page.read_text().count(start) == 1 and "| a |" not in page.read_text()


def test_a_missing_block_is_appended_with_its_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n")
    replace_block(page, "bench", ["numbers"])
    assert page.read_text() == "# Title\n\n<!-- bench:start -->\nnumbers\n<!-- bench:end -->\n"
