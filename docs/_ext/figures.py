"""An mkdocs hook: the reports and figures under ``results/`` become part of the site at the same paths.

The experiments write their reports (markdown) and figures beside each other in ``results/``;
the guides link and show them from there (``results/...`` from the site's root, as README does),
so nothing is copied into ``docs/`` by hand and nothing goes stale.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File


def on_files(files, config):
    root = Path(config["config_file_path"]).parent
    for output in sorted(p for p in (root / "results").rglob("*") if p.suffix in (".md", ".png")):
        files.append(File.generated(config, output.relative_to(root).as_posix(), abs_src_path=str(output)))
    return files
