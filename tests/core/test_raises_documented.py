"""Every public method of the services in economy/ says what it raises (a `Raises:` line), so a
cog author knows which refusals to expect without reading the body."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _is_service_module(path: Path) -> bool:
    """Repositories and storage hold queries, not services; frozen migration code is history."""
    return ("repos" not in path.parts and "_frozen" not in path.parts
            and not path.stem.endswith("repo"))


def _is_protocol(cls: ast.ClassDef) -> bool:
    return any(getattr(base, "id", getattr(base, "attr", None)) == "Protocol" for base in cls.bases)


def test_every_public_service_method_documents_what_it_raises():
    missing = []
    for path in sorted((ROOT / "economy").rglob("*.py")):
        if not _is_service_module(path):
            continue
        for cls in ast.parse(path.read_text()).body:
            if not isinstance(cls, ast.ClassDef) or _is_protocol(cls):
                continue
            for method in cls.body:
                if (isinstance(method, ast.AsyncFunctionDef) and not method.name.startswith("_")
                        and "Raises" not in (ast.get_docstring(method) or "")):
                    missing.append(f"{path.relative_to(ROOT)}:{cls.name}.{method.name}")
    assert missing == []
