"""Build the documentation site and read it as a person would: helpers for tests/docs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def build(out: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``out``; the completed process (check its return code)."""
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config), "-d", str(out)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def without_maths(tmp: Path) -> Path:
    """A copy of mkdocs.yml without the maths extension (arithmatex), every path made absolute."""
    text = (ROOT / "mkdocs.yml").read_text()
    text, removed = re.subn(r"  - pymdownx\.arithmatex:\n      generic: true\n", "", text)
    assert removed == 1, "mkdocs.yml no longer configures arithmatex as this test expects"
    text = text.replace("docs_dir: docs", f"docs_dir: {ROOT / 'docs'}")
    text = text.replace("  - docs/_ext/figures.py", f"  - {ROOT / 'docs/_ext/figures.py'}")
    text = text.replace("- docs/_ext/griffe_rst.py:RstRoles", f"- {ROOT / 'docs/_ext/griffe_rst.py'}:RstRoles")
    text = text.replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    config = tmp / "mkdocs.yml"
    config.write_text(text)
    return config


def rendered_dom(page: Path) -> str:
    """The DOM of ``page`` after its scripts ran, from headless Chromium (``--dump-dom``)."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    done = subprocess.run([*command, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def katex_maths(dom: str) -> int:
    """How many formulas KaTeX rendered (each ``.arithmatex`` span or block holds one ``.katex``)."""
    return len(re.findall(r'<span class="katex">', dom))


def highlighted_code(dom: str) -> int:
    """How many code blocks carry Pygments highlighting (a ``div.highlight`` with token spans)."""
    blocks = re.findall(r'<div class="[\w -]*highlight">(.*?)</div>', dom, re.S)
    return sum(bool(re.search(r'<span class="(?:k|n|nb|nn|s|mi|o|p)">', block)) for block in blocks)
