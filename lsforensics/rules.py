"""Rule folders: load, validate with file:line errors, merge, hash.

Rules are data. Every ``*.yaml`` file under a rules folder is a mapping with a ``kind`` (brands,
slang, adlaw, health, materials, …) and a ``rules`` list whose items carry an ``id``. Files are
grouped by ``kind``, not by name, so a user can add ``rules/acme.yaml`` with ``kind: brands``.
``--rules DIR`` folders are loaded after the shipped set: an item with an existing ``id``
replaces it, a new ``id`` is added. Other top-level keys of a kind are merged the same way
(later wins). ``references/<brand>/`` sub-folders hold reference images for the visual stage.

Every loaded mapping and list remembers the file and line it came from, so domain validators can
raise ``RuleError(node, "message")`` and the user sees ``rules/brands.yaml:42: message``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import loaders
from .errors import InputError

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
_PACKAGED_RULES = Path(__file__).resolve().parent / "rules_data"
MAX_RULE_FILE_BYTES = 8 * 1024 * 1024  # the shipped files are under 30 KB


SHIPPED_LABEL = "rules"  # the shipped folder's name in display names, wherever it is installed


def shipped_rules_dir() -> Path:
    """The copy packaged with an installed wheel (``lsforensics/rules_data``, mapped from the
    top-level ``rules/`` by setup.py), else the ``rules/`` folder of a source checkout."""
    return _PACKAGED_RULES if _PACKAGED_RULES.is_dir() else SHIPPED_RULES


class LocatedDict(dict):
    file: str = "?"
    line: int = 0
    key_lines: dict[Any, int]


class LocatedList(list):
    file: str = "?"
    line: int = 0


class RuleError(InputError):
    def __init__(self, node: Any, message: str, key: Any = None):
        file = getattr(node, "file", "?")
        line = getattr(node, "line", 0)
        if key is not None and isinstance(node, LocatedDict):
            line = node.key_lines.get(key, line)
        super().__init__(f"{file}:{line}: {message}")


def _make_loader(file: str) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedDict:
        loader.flatten_mapping(node)
        out = LocatedDict()
        out.file, out.line, out.key_lines = file, node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise InputError(f"{file}:{key_node.start_mark.line + 1}: unhashable key") from None
            if key in out:
                raise InputError(f"{file}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
        out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        out.file, out.line = file, node.start_mark.line + 1
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def load_yaml(path: Path, display: str | None = None) -> Any:
    """Parse one YAML file (bounded: size, depth, no aliases); errors are ``InputError('file:line: problem')``."""
    return loaders.load_yaml_file(path, display or str(path), max_bytes=MAX_RULE_FILE_BYTES,
                                  loader=_make_loader(display or str(path)))


@dataclass
class RuleFile:
    path: Path
    display: str
    kind: str
    sha256: str
    data: LocatedDict


@dataclass
class RuleSet:
    files: list[RuleFile] = field(default_factory=list)
    reference_dirs: dict[str, list[Path]] = field(default_factory=dict)
    folders: list[tuple[Path, str]] = field(default_factory=list)  # (folder, label) in load order

    @property
    def sha256(self) -> str:
        """One digest over every loaded file (display name + content hash) in load order."""
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f.display}\0{f.sha256}\n".encode())
        for brand in sorted(self.reference_dirs):
            for d in self.reference_dirs[brand]:
                for p in sorted(d.rglob("*")):
                    if p.is_file():
                        h.update(f"ref:{brand}/{p.name}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode())
        return h.hexdigest()

    def kinds(self) -> set[str]:
        return {f.kind for f in self.files}

    def items(self, kind: str) -> list[LocatedDict]:
        """All ``rules`` items of a kind; a later file's item replaces an earlier one with the same id."""
        merged: dict[str, LocatedDict] = {}
        for f in self.files:
            if f.kind != kind:
                continue
            for item in f.data.get("rules") or []:
                merged[item["id"]] = item
        return list(merged.values())

    def settings(self, kind: str) -> dict[str, Any]:
        """Top-level keys other than ``kind``/``rules`` of a kind, later files overriding."""
        out: dict[str, Any] = {}
        for f in self.files:
            if f.kind == kind:
                out.update({k: v for k, v in f.data.items() if k not in ("kind", "rules", "version")})
        return out

    def to_summary(self) -> list[dict[str, str]]:
        return [{"file": f.display, "kind": f.kind, "sha256": f.sha256} for f in self.files]


def _validate_file(data: Any, display: str) -> LocatedDict:
    if data is None:
        raise InputError(f"{display}:1: empty rules file")
    if not isinstance(data, LocatedDict):
        raise InputError(f"{display}:1: a rules file must be a mapping with 'kind' and 'rules'")
    if not isinstance(data.get("kind"), str):
        raise RuleError(data, "missing 'kind' (brands, slang, adlaw, health, materials, …)")
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise RuleError(data, "'rules' must be a list", key="rules")
    seen: set[str] = set()
    for item in rules:
        if not isinstance(item, LocatedDict):
            raise RuleError(rules, "each rule must be a mapping")
        rid = item.get("id")
        if not isinstance(rid, str) or not rid:
            raise RuleError(item, "rule without an 'id'")
        if rid in seen:
            raise RuleError(item, f"duplicate rule id {rid!r}", key="id")
        seen.add(rid)
    return data


def iter_rule_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and "references" not in p.relative_to(folder).parts)


Validator = Callable[[RuleSet], None]
_VALIDATORS: list[Validator] = []


def register_validator(fn: Validator) -> Validator:
    """Domain modules register checks of their kinds; they run on every ``load_rules``."""
    _VALIDATORS.append(fn)
    return fn


def load_rules(extra: Iterable[str | os.PathLike[str]] = (), *, include_shipped: bool = True) -> RuleSet:
    """The shipped rules (unless ``include_shipped=False``) and then each ``extra`` folder."""
    folders: list[tuple[Path, str]] = [(shipped_rules_dir(), SHIPPED_LABEL)] if include_shipped else []
    for e in extra:
        p = Path(e)
        if not p.exists():
            raise InputError(f"rules folder {p} does not exist")
        if not p.is_dir():
            raise InputError(f"rules path {p} is not a folder")
        folders.append((p, p.absolute().name))
    return load_rule_folders(folders)


def load_rule_folders(folders: Iterable[tuple[Path, str]], *, shipped: Path | None = None) -> RuleSet:
    """Load ``(folder, label)`` pairs in order; ``label`` names the folder in every file's display
    name (``label/brands.yaml``), so a rule set copied elsewhere (the archive inside a case, the
    copy packaged in a wheel) has the same display names and so the same ``sha256``."""
    shipped = shipped or shipped_rules_dir()
    rs = RuleSet()
    for folder, label in folders:
        rs.folders.append((folder, label))
        files = list(iter_rule_files(folder))
        if folder != shipped and not files and not (folder / "references").is_dir():
            raise InputError(f"rules folder {folder} holds no *.yaml rule files")
        for path in files:
            display = f"{label}/{path.relative_to(folder).as_posix()}"
            raw = path.read_bytes()
            data = _validate_file(load_yaml(path, display), display)
            rs.files.append(RuleFile(path, display, data["kind"], hashlib.sha256(raw).hexdigest(), data))
        refs = folder / "references"
        if refs.is_dir():
            for d in sorted(p for p in refs.iterdir() if p.is_dir()):
                rs.reference_dirs.setdefault(d.name, []).append(d)
    if not rs.files:
        raise InputError("no rule files loaded")
    for fn in _VALIDATORS:
        fn(rs)
    return rs
