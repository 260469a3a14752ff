"""Static checks on a candidate before any container starts (verdict `rejected`)."""

from __future__ import annotations

import ast

MAX_BYTES = 64 * 1024


def static_problems(source: bytes) -> list[str]:
    """Reasons to reject a train.py without running it; empty when it may run."""
    if len(source) > MAX_BYTES:
        return [f"train.py is {len(source)} bytes; the limit is {MAX_BYTES}"]
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"train.py is not UTF-8 text: {e}"]
    try:
        tree = ast.parse(text, filename="train.py")
    except SyntaxError as e:
        return [f"train.py does not parse: {e.msg} (line {e.lineno})"]
    except Exception as e:  # e.g. RecursionError on deep nesting: the source is hostile input, not the host's crash
        return [f"train.py could not be checked ({type(e).__name__}: nesting too deep or too complex); simplify it"]
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    problems = []
    if "build_pipeline" not in names:
        problems.append("train.py does not define build_pipeline() at module level")
    return problems


def hypothesis(source: bytes) -> str:
    """The module-level HYPOTHESIS string, if it is a plain literal."""
    try:
        tree = ast.parse(source.decode("utf-8", "replace"))
    except Exception:  # SyntaxError, RecursionError, ValueError (NUL bytes): no hypothesis to show
        return ""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "HYPOTHESIS" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value.strip().splitlines()[0] if node.value.value.strip() else ""
    return ""
