"""The layout of docs/architecture.md holds: each floor imports only from floors below it, and no attack knows
the protection it attacks."""
import ast
from pathlib import Path

import pytest

import imageprivacy

ROOT = Path(imageprivacy.__file__).parent
# Bottom to top; errors and the two bottom floors (data, metrics) share the lowest rank.
FLOORS = {"errors": 0, "data": 0, "metrics": 0, "nets": 1, "training": 2, "attacks": 3, "protections": 4,
          "experiments": 5, "report": 6, "web": 7, "cli": 8}
METHODS = ("unlearnable", "dpf", "obfuscator")


def _imports(path: Path) -> list[str]:
    """The imageprivacy modules a file imports, at any depth of the file (deferred imports count too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imageprivacy."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("imageprivacy.")]
    return found


MODULES = [p for p in sorted(ROOT.rglob("*.py")) if p.relative_to(ROOT).parts[0].removesuffix(".py") in FLOORS]


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_a_floor_imports_only_from_below(path):
    floor = path.relative_to(ROOT).parts[0].removesuffix(".py")
    for module in _imports(path):
        target = module.split(".")[1]
        assert target in FLOORS, f"{module}: the public short names (imageprivacy.dpf, ...) are for users"
        assert FLOORS[target] <= FLOORS[floor], f"{path.relative_to(ROOT)} imports {module} from a floor above"
        if floor == "attacks":
            assert target != "protections", f"{path.relative_to(ROOT)}: an attack must not know the protection"


def test_every_method_has_its_folder_in_every_floor_it_has_code_in():
    for floor in ("attacks", "protections", "experiments", "report", "cli"):
        assert all((ROOT / floor / m / "__init__.py").is_file() for m in METHODS), floor
    tests = Path(__file__).parent
    assert all((tests / m / "__init__.py").is_file() for m in METHODS)


def test_a_method_folder_imports_no_other_method():
    for path in MODULES:
        parts = path.relative_to(ROOT).parts
        if len(parts) < 3 or parts[1] not in METHODS:
            continue
        others = [m for m in METHODS if m != parts[1]]
        for module in _imports(path):
            bits = module.split(".")
            assert not (len(bits) > 2 and bits[2] in others), f"{'/'.join(parts)} imports {module}"
