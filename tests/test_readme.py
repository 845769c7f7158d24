"""README's command-line examples cannot rot: the quick start runs, every other example parses.

The block after ``<!-- run by tests/test_readme.py -->`` is run command by command in a
temporary directory; every ``amaml ...`` line elsewhere in README is parsed by the CLI's own
parser and its ``--set`` items are resolved against the configuration (so a renamed flag,
command or key fails here), without running it.
"""

import re
import shlex
from pathlib import Path

import pytest

from amaml.cli import build_parser, main
from amaml.train import RunConfig

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- run by tests/test_readme.py -->"


def sh_blocks(text: str) -> list[tuple[bool, str]]:
    """Every ```sh block as (marked to run, body)."""
    blocks = []
    for match in re.finditer(r"(<!-- run by tests/test_readme.py -->\s*)?```sh\n(.*?)```", text, re.S):
        blocks.append((match.group(1) is not None, match.group(2)))
    return blocks


def amaml_commands(body: str) -> list[list[str]]:
    """The ``amaml`` command lines of a block (comments dropped, continuation lines joined)."""
    commands = []
    for line in body.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        while words and ("=" in words[0] and not words[0].startswith("-")):  # VAR=value prefixes
            words = words[1:]
        if words and words[0] in ("srun",):
            words = words[words.index("amaml") :] if "amaml" in words else []
        if words and words[0] == "amaml":
            commands.append(words[1:])
    return commands


def test_readme_has_a_quick_start_to_run_and_it_shows_make_run_and_make_test_first():
    text = README.read_text()
    first_screen = "\n".join(text.splitlines()[:25])
    assert "make run" in first_screen and "make test" in first_screen
    assert sum(marked for marked, _ in sh_blocks(text)) == 1 and MARKER in text


def test_the_quick_start_commands_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (body,) = [body for marked, body in sh_blocks(README.read_text()) if marked]
    commands = amaml_commands(body)
    assert any(c[0] == "train" for c in commands) and any(c[0] == "eval" for c in commands)
    for argv in commands:
        assert main(argv) == 0, (argv, capsys.readouterr().err)


def every_other_command():
    return [argv for marked, body in sh_blocks(README.read_text()) if not marked for argv in amaml_commands(body)]


@pytest.mark.parametrize("argv", every_other_command(), ids=lambda argv: " ".join(argv)[:60])
def test_every_other_readme_command_parses_and_its_settings_resolve(argv):
    args = build_parser().parse_args(argv)
    if getattr(args, "set", None):
        RunConfig().with_overrides(args.set)
