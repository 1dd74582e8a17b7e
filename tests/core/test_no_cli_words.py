"""Only cli/ speaks command line: no string elsewhere in src/ names a flag (`--subject`) or a `sendwell` command.

Services name the field and a hint (sendwell.errors); each front end says them its own way. A string is any
literal in the Python source (f-strings with their placeholders read as `x`) and the text of the web templates."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import typer.main

from sendwell.cli.app import app

SRC = Path(__file__).resolve().parents[2] / "src" / "sendwell"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w-])")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
COMMAND = re.compile(rf"\bsendwell(?: -{{1,2}}[\w-]+(?: \S+)?)* (?:{'|'.join(COMMANDS)})\b")

# Each entry says why the command line is the right thing to name there.
ALLOWED = {
    "demo/": "the demo story is the narrative `sendwell demo` prints on the console: a command-line front end",
    "web/security.py": "API tokens are made only on the server's command line: the 401 says which command",
    "web/app.py": "the OpenAPI description tells API clients how to get a token, which only the CLI makes",
    "web/ui/templates/login.html": "the first user is made only on the server's command line",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """Docstrings document code for its readers (and the API's operators): they may show a command."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    skip, inside = _docstrings(tree), set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "x" for v in node.values]
            inside.update(id(v) for v in node.values)
            out.append((node.lineno, "".join(str(p) for p in parts)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip | inside:
            out.append((node.lineno, node.value))  # ast.walk reaches an f-string before its parts
    return out


def offences(root: Path) -> list[str]:
    """`path:line: text` for every string outside cli/ (and the allowed files) naming a flag or a command."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("cli/") or any(rel.startswith(a) for a in ALLOWED):
            continue
        if path.suffix == ".py":
            strings = _strings(path.read_text(encoding="utf-8"))
        elif path.suffix == ".html":
            strings = list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))
        else:
            continue
        for line, text in strings:
            hit = FLAG.search(text) or COMMAND.search(text)
            if hit:
                found.append(f"{rel}:{line}: {hit.group()!r} in {text.strip()[:80]!r}")
    return found


def test_no_string_outside_cli_names_a_flag_or_a_command() -> None:
    assert offences(SRC) == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    (tmp_path / "campaigns.py").write_text(
        '"""Campaigns (`sendwell campaigns create` documents itself here)."""\n'
        "def f(x):\n"
        '    """A docstring may say --subject."""\n'
        '    raise ValueError("--subject: must not be empty")\n'
        "def g(option):\n"
        '    return f"--{option} {1}: bad", f"see `sendwell segments list`", "sendwell never learns", "xn--p1ai"\n'
    )
    (tmp_path / "page.html").write_text("<p>run <code>sendwell -d x.db worker</code></p>\n")
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "app.py").write_text('HELP = "--subject and `sendwell worker`"\n')
    assert [o.split(" in ")[0] for o in offences(tmp_path)] == [
        "campaigns.py:4: '--subject'",
        "campaigns.py:6: '--x'",
        "campaigns.py:6: 'sendwell segments'",
        "page.html:1: 'sendwell -d x.db worker'",
    ]
    for path, reason in ALLOWED.items():
        assert (SRC / path).exists() and reason, path
