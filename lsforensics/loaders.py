"""Bounded, safe readers for every YAML, JSON and XML input: rules, pages, chat logs, case files.

Everything lsf parses can come from someone hostile: a seller's saved page, a viewer-controlled
chat log, a rules folder from a colleague, or a case folder handed over by the other side. Each
reader here enforces, before or while parsing:

* a **size** limit (the file is refused by its size, never read whole first);
* a **nesting depth** limit (:data:`MAX_DEPTH`): deep ``[[[[…`` or ``a: {b: {c: …}}`` cannot
  exhaust the stack (``RecursionError``) or make later code recurse without end;
* **no YAML aliases** (``*name``): an alias can make a few hundred bytes expand into gigabytes
  ("billion laughs"); the rules and pages lsf reads never need one;
* **no XML entity declarations and no external references** (``defusedxml``), and the depth limit;
* errors as **one line** ``name:line: problem``, never longer than :data:`MAX_MESSAGE` characters,
  raised as :class:`LoadError` (an :class:`~lsforensics.errors.InputError`, exit 2).
"""

from __future__ import annotations

import json
import os
import re
import xml.sax
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

MAX_DEPTH = 64  # real rules, pages, chat and case files stay under 10 levels
MAX_BYTES = 64 * 1024 * 1024  # default cap on one file
MAX_MESSAGE = 300  # characters of a value quoted in an error


class LoadError(InputError):
    """A file could not be loaded safely; the message is ``name:line: problem`` (exit 2)."""


def clip(text: Any, limit: int = 80) -> str:
    """``repr``-like quoting of an untrusted value for an error line: one line, bounded."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit] + f"… ({len(s)} characters)"


def _fail(name: str, line: int | None, message: str) -> LoadError:
    where = f"{name}:{line}" if line else name
    return LoadError(f"{where}: {clip(message, MAX_MESSAGE)}")


# -- bytes ------------------------------------------------------------------------------------
def read_bytes(path: str | os.PathLike[str], name: str | None = None, *, max_bytes: int = MAX_BYTES,
               what: str = "file") -> bytes:
    """Read a whole file, refusing it by size first (and again while reading: it may grow)."""
    p = Path(path)
    name = name or str(p)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise _fail(name, None, f"{size:,} bytes; a {what} over {max_bytes:,} bytes is refused")
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise _fail(name, None, "no such file") from None
    except IsADirectoryError:
        raise _fail(name, None, "is a folder, not a file") from None
    except OSError as exc:
        raise _fail(name, None, f"cannot read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise _fail(name, None, f"more than {max_bytes:,} bytes; a {what} that large is refused")
    return data


def decode_utf8(data: bytes, name: str) -> str:
    """UTF-8 (a BOM is allowed); the error names the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(name, data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None


# -- depth ------------------------------------------------------------------------------------
def depth_exceeded(obj: Any, max_depth: int = MAX_DEPTH) -> bool:
    """True when lists/dicts nest deeper than ``max_depth`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if d > max_depth:
            return True
        stack.extend((c, d + 1) for c in children if isinstance(c, dict | list))
    return False


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}\n]')


def _json_deep_line(text: str, max_depth: int) -> int | None:
    """Line where JSON brackets first nest deeper than ``max_depth`` (only run on the error path)."""
    depth, line = 0, 1
    for m in _JSON_TOKEN.finditer(text):
        c = m.group(0)
        if c == "\n":
            line += 1
        elif c in "[{":
            depth += 1
            if depth > max_depth:
                return line
        elif c in "]}":
            depth -= 1
    return None


# -- JSON -------------------------------------------------------------------------------------
def load_json(text: str | bytes, name: str, *, max_depth: int = MAX_DEPTH, first_line: int = 1) -> Any:
    """Parse JSON text; syntax errors, deep nesting and bad UTF-8 are one-line ``LoadError``."""
    if isinstance(text, bytes):
        text = decode_utf8(text, name)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(name, exc.lineno + first_line - 1, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        obj = None
    else:
        if not depth_exceeded(obj, max_depth):
            return obj
    line = _json_deep_line(text, max_depth)
    raise _fail(name, (line or 1) + first_line - 1, f"nested more than {max_depth} levels deep")


def load_json_file(path: str | os.PathLike[str], name: str | None = None, *, max_bytes: int = MAX_BYTES,
                   max_depth: int = MAX_DEPTH) -> Any:
    name = name or str(path)
    return load_json(read_bytes(path, name, max_bytes=max_bytes), name, max_depth=max_depth)


def load_json_lines(text: str, name: str, *, max_depth: int = MAX_DEPTH) -> list[tuple[int, Any]]:
    """``[(line number, object)]`` for each non-blank line of JSON Lines text."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.strip():
            out.append((n, load_json(raw, name, max_depth=max_depth, first_line=n)))
    return out


# -- YAML -------------------------------------------------------------------------------------
def bounded_yaml_loader(base: type[yaml.SafeLoader], name: str, *,
                        max_depth: int = MAX_DEPTH) -> type[yaml.SafeLoader]:
    """A subclass of the (safe) loader ``base`` that refuses aliases and deep nesting while composing,
    before any object is built."""

    class Bounded(base):  # type: ignore[valid-type, misc]
        _lsf_depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                ev = self.peek_event()
                raise _fail(name, ev.start_mark.line + 1,
                            f"YAML aliases (*{ev.anchor}) are not allowed: write the value out")
            self._lsf_depth += 1
            try:
                if self._lsf_depth > max_depth:
                    ev = self.peek_event()
                    raise _fail(name, ev.start_mark.line + 1, f"nested more than {max_depth} levels deep")
                return super().compose_node(parent, index)
            finally:
                self._lsf_depth -= 1

    return Bounded


def load_yaml(text: str, name: str, *, loader: type[yaml.SafeLoader] = yaml.SafeLoader,
              max_depth: int = MAX_DEPTH) -> Any:
    """Parse YAML with a SafeLoader (or a subclass that adds constructors), bounded as above."""
    try:
        return yaml.load(text, Loader=bounded_yaml_loader(loader, name, max_depth=max_depth))  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _fail(name, mark.line + 1 if mark else None, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _fail(name, None, f"invalid YAML: {exc}") from None
    except RecursionError:  # pragma: no cover - the depth limit is far below the stack's
        raise _fail(name, None, "nested too deeply") from None


def load_yaml_file(path: str | os.PathLike[str], name: str | None = None, *, max_bytes: int = MAX_BYTES,
                   loader: type[yaml.SafeLoader] = yaml.SafeLoader, max_depth: int = MAX_DEPTH) -> Any:
    name = name or str(path)
    text = decode_utf8(read_bytes(path, name, max_bytes=max_bytes), name)
    return load_yaml(text, name, loader=loader, max_depth=max_depth)


# -- XML --------------------------------------------------------------------------------------
class _DepthGuard(xml.sax.handler.ContentHandler):
    """Wraps a SAX handler: counts element depth, gives it the parser's line numbers."""

    def __init__(self, inner: xml.sax.handler.ContentHandler, name: str, max_depth: int):
        super().__init__()
        self.inner, self.name, self.max_depth, self.depth = inner, name, max_depth, 0
        self.locator: Any = None

    def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 - SAX API
        self.locator = locator
        self.inner.setDocumentLocator(locator)

    def line(self) -> int | None:
        return self.locator.getLineNumber() if self.locator is not None else None

    def startElement(self, tag: str, attrs: Any) -> None:  # noqa: N802
        self.depth += 1
        if self.depth > self.max_depth:
            raise _fail(self.name, self.line(), f"XML nested more than {self.max_depth} levels deep")
        self.inner.startElement(tag, attrs)

    def endElement(self, tag: str) -> None:  # noqa: N802
        self.depth -= 1
        self.inner.endElement(tag)

    def characters(self, content: str) -> None:
        self.inner.characters(content)


def parse_xml(data: bytes, name: str, handler: xml.sax.handler.ContentHandler, *,
              max_depth: int = MAX_DEPTH) -> None:
    """SAX-parse ``data`` with defusedxml: no entity declarations, no external references, bounded
    depth. ``handler`` may read ``line()`` on the guard it is given as ``handler.guard``."""
    import defusedxml
    import defusedxml.sax

    guard = _DepthGuard(handler, name, max_depth)
    handler.guard = guard  # type: ignore[attr-defined]
    try:
        defusedxml.sax.parseString(data, guard, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.EntitiesForbidden:
        raise _fail(name, guard.line(), "XML entity declarations are not allowed") from None
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden, defusedxml.NotSupportedError):
        raise _fail(name, guard.line(), "XML external references are not allowed") from None
    except xml.sax.SAXParseException as exc:
        raise _fail(name, exc.getLineNumber(), f"invalid XML: {exc.getMessage()}") from None

