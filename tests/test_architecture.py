"""The rules of docs/architecture.md, read from the code itself: which app may import
which (import-linter's contracts, in pyproject.toml under ``[tool.importlinter]``), and
no module grown past what one person reads whole."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 600


@pytest.mark.parametrize(
    "contract", [contract["id"] for contract in SETTINGS["contracts"]]
)
def test_the_imports_keep_the_rule(contract):
    run = subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Its report names the rule broken and every import that breaks it.
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_module_passes_six_hundred_lines():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for app in SETTINGS["root_packages"]
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, "\n".join(
        f"{name}: {lines} lines" for name, lines in too_long.items()
    )
