"""Matter fields (court, proceeding number, examiner, examiner's statement) from ``--matter FILE``.

The YAML file is checked (bounded size, no aliases, only the known keys, text values) and copied
into the case as ``matter.yaml``, so the report's first page is reproducible from the case and
the file is hashed like every other input.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..case import Case
from ..errors import InputError

MATTER_FILE = "matter.yaml"
MAX_BYTES = 64 * 1024
FIELDS: dict[str, tuple[str, str]] = {
    "court": ("法院 / 机关", "Court or authority"),
    "proceeding": ("案号", "Proceeding number"),
    "matter": ("案件名称", "Matter"),
    "client": ("委托方", "Instructed by"),
    "examiner": ("检验人", "Examiner"),
    "examiner_role": ("检验人身份", "Examiner's role"),
    "date": ("日期", "Date"),
    "statement": ("检验人声明", "Examiner's statement"),
}
MAX_FIELD = {"statement": 20000}


def matter_path(case: Case) -> Path:
    return case.root / MATTER_FILE


def parse_matter(data: bytes, display: str) -> dict[str, str]:
    if len(data) > MAX_BYTES:
        raise InputError(f"--matter {display}: {len(data)} bytes, at most {MAX_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--matter {display}: not UTF-8 text") from None
    try:
        if any(isinstance(ev, yaml.AliasEvent) for ev in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise InputError(f"--matter {display}: YAML aliases are not allowed")
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"--matter {display}:{mark.line + 1 if mark else 0}: invalid YAML") from None
    if not isinstance(doc, dict):
        raise InputError(f"--matter {display}: expected a mapping of {', '.join(FIELDS)}")
    unknown = sorted(str(k) for k in doc if k not in FIELDS)
    if unknown:
        raise InputError(f"--matter {display}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    out = {}
    for k, v in doc.items():
        if v is None:
            continue
        if isinstance(v, dict | list) or isinstance(v, bool):
            raise InputError(f"--matter {display}: '{k}' must be text")
        s = str(v).strip()
        if len(s) > MAX_FIELD.get(k, 2000):
            raise InputError(f"--matter {display}: '{k}' is longer than {MAX_FIELD.get(k, 2000)} characters")
        out[k] = s
    return out


def read_matter_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"--matter {path}: {size} bytes, at most {MAX_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--matter {path}: cannot read ({exc.strerror})") from None
    parse_matter(data, str(path))
    return data


def case_matter(case: Case) -> list[dict[str, str]]:
    """The case's matter fields in display order, with their bilingual labels (empty: no file)."""
    path = matter_path(case)
    if not path.is_file():
        return []
    fields = parse_matter(path.read_bytes(), MATTER_FILE)
    return [{"key": k, "zh": FIELDS[k][0], "en": FIELDS[k][1], "value": fields[k]} for k in FIELDS if k in fields]

