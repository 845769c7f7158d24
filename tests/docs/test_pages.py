"""The guides' own code runs: every ```python block of a page written in docs/ (not included from examples/).

Blocks of one page run in order in one namespace, as a reader would paste them. The examples
the guides include (``--8<--``) are run by tests/examples, README's by tests/test_readme.py.
"""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


SNIPPET = re.compile(r'--8<-- "(?P<file>[\w/.-]+):(?P<section>[\w-]+)"\n')


def python_blocks(page: Path) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    return [b for b in blocks if not SNIPPET.fullmatch(b)]


def test_every_included_section_exists():
    """A block that includes a file's section holds that one line, and the file marks the section."""
    root = DOCS.parent
    for page in DOCS.glob("*.md"):
        for match in SNIPPET.finditer(page.read_text()):
            text = (root / match["file"]).read_text()
            assert f"--8<-- [start:{match['section']}]" in text, (page.name, match.group(0))
            assert f"--8<-- [end:{match['section']}]" in text, (page.name, match.group(0))


PAGES = sorted(p.name for p in DOCS.glob("*.md") if python_blocks(p))


def test_the_pages_with_code_are_the_expected_ones():
    assert {"index.md", "getting-started.md", "concepts.md"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_the_code_of_a_page_runs(page, capsys):
    namespace: dict = {}
    for block in python_blocks(DOCS / page):
        exec(compile(block, f"docs/{page}", "exec"), namespace)
