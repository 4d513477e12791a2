"""The commands the README and docs show exist: every ``lstmkit ...`` line in their shell code
blocks names real sub-commands and only flags those sub-commands take, so a renamed or removed
flag fails here instead of in a new user's terminal. Nothing is trained: the command tree is read."""
import re
import shlex
from pathlib import Path

import pytest
import typer

from lstmkit.cli import _LAZY, app, lazy_command

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shell_blocks(text: str) -> list[str]:
    """The bodies of the shell (```bash, ```sh, ```console) and plain (```) code blocks of a markdown text."""
    blocks, lang, body = [], None, []
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:].strip(), []
            else:
                if lang in ("", "bash", "sh", "shell", "console"):
                    blocks.append("".join(body))
                lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def lstmkit_lines(block: str) -> list[list[str]]:
    """Each ``lstmkit ...`` invocation in a shell block, as its argument list after ``lstmkit``:
    continuation lines joined, comments dropped, pipes and redirections cut, ``[--opt x]`` kept."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line.replace("[", " ").replace("]", " "), comments=True)
        except ValueError:            # an unbalanced quote in an example: that line is not checked
            continue
        for i, word in enumerate(words):
            if word == "lstmkit" and (i == 0 or words[i - 1] in ("|", "-m")):
                rest = words[i + 1:]
                cut = next((j for j, w in enumerate(rest) if w in ("|", "<", ">", "&&", ";")), len(rest))
                commands.append(rest[:cut])
    return commands


def resolve(args: list[str]) -> tuple[object, list[str], str]:
    """The click command ``lstmkit ARGS`` runs, the arguments left for it, and its path."""
    command = typer.main.get_command(app)
    path = "lstmkit"
    while hasattr(command, "commands") and args and not args[0].startswith("-"):
        name, args = args[0], args[1:]
        assert name in command.commands, f"'{path} {name}': no such command (has {sorted(command.commands)})"
        path += f" {name}"
        command = lazy_command(name) if path == f"lstmkit {name}" and name in _LAZY else command.commands[name]
    return command, args, path


def unknown_flags(args: list[str]) -> list[str]:
    """The ``--flags`` in ``lstmkit ARGS`` that its command does not take."""
    command, rest, path = resolve(args)
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    return [f"{path}: {w.split('=')[0]}" for w in rest
            if w.startswith("--") and w.split("=")[0] not in known]


def documented_commands() -> list[tuple[str, list[str]]]:
    return [(doc.name, args) for doc in DOCS for block in shell_blocks(doc.read_text(encoding="utf-8"))
            for args in lstmkit_lines(block)]


def test_the_readme_shows_commands_of_every_task():
    shown = {tuple(args[:2]) for name, args in documented_commands() if name == "README.md"}
    for task in ("forecast", "classify", "translate", "lm", "speech"):
        assert (task, "train") in shown, task
    assert {("serve",), ("tune",)} <= {s[:1] for s in shown}


def test_every_documented_command_and_flag_exists():
    wrong = [f"{name}: {flag}" for name, args in documented_commands() for flag in unknown_flags(args)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("line, why", [
    ("lstmkit forecast train --data s.csv --lookbak 60", "lstmkit forecast train: --lookbak"),
    ("echo hi | lstmkit classify predict --run r --data - --txt body", "lstmkit classify predict: --txt"),
    ("lstmkit serve --run r --prot 8000", "lstmkit serve: --prot"),
    ("lstmkit export onnx --run r --opset 17", "lstmkit export onnx: --opset"),
    ("torchrun --standalone -m lstmkit forecast train \\\n    --data s.csv --epoch 3", "lstmkit forecast train: --epoch"),
])
def test_a_wrong_flag_is_caught(line, why):
    (args,) = lstmkit_lines(line)
    assert unknown_flags(args) == [why]


def test_a_wrong_subcommand_is_caught():
    (args,) = lstmkit_lines("lstmkit forecast fit --data s.csv")
    with pytest.raises(AssertionError, match="forecast fit"):
        unknown_flags(args)


def every_flag() -> set[str]:
    """Each --flag some ``lstmkit`` command takes, lazily mounted commands included."""
    found, todo = set(), [(typer.main.get_command(app), True)]
    while todo:
        command, root = todo.pop()
        found |= {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for name, sub in (getattr(command, "commands", None) or {}).items():
            todo.append((lazy_command(name) if root and name in _LAZY else sub, False))
    return found


# flags of other tools the README's prose names: pytest's, curl's and the benchmark scripts'
OTHER_TOOLS = {"--clock", "--collect-only", "--data-binary", "--defaults", "--freq", "--part"}


def test_every_flag_the_readme_prose_names_exists():
    text = re.sub(r"^```.*?^```", "", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.M | re.S)
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)) - OTHER_TOOLS - {"--help"}
    assert named, "no flags found: the prose parser is broken"
    assert not sorted(named - every_flag())


def test_shell_and_plain_blocks_are_read_and_python_blocks_are_not():
    text = "```python\nlstmkit.load('r')\n```\n\n```bash\nlstmkit a\n```\ntext\n```\nlstmkit b\n```\n"
    assert shell_blocks(text) == ["lstmkit a\n", "lstmkit b\n"]
