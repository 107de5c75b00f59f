"""A CJK TrueType font for the PDF report (and the batch network picture), on Linux, macOS or Windows.

reportlab embeds TrueType outlines (``glyf``) only, not CFF-based OpenType, so a font is usable
when it has a ``glyf`` table and its character map covers the Chinese a report prints. The
search, first hit wins:

1. ``LSF_CJK_FONT=/path/font.ttf[:index]`` (or ``cjk_font`` in lsf.toml), taken as given;
2. known files: Debian's/Fedora's WenQuanYi Zen Hei, AR PL UMing, Droid Sans Fallback; macOS's
   STHeiti and Arial Unicode; Windows's Microsoft YaHei, SimHei, SimSun, DengXian;
3. every font file the system has (matplotlib's font finder knows each OS's font folders:
   fontconfig on Linux, ``/Library/Fonts`` etc. on macOS, ``%WINDIR%\\Fonts`` and the user's
   fonts on Windows), checked with fontTools for ``glyf`` and CJK coverage.

The font used is named in the report ("PDF 字体 font"), so a reader knows which glyphs they see.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from ..errors import InputError

SAMPLE = "证据报告直播带货小香驴牌原版一比一复刻广告法第九条"
_WIN = Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"
KNOWN: list[tuple[str, int]] = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian / Ubuntu: fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),  # Fedora: wqy-zenhei-fonts
    ("/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc", 0),  # Arch: wqy-zenhei
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/System/Library/Fonts/STHeiti Light.ttc", 0),  # macOS
    ("/System/Library/Fonts/STHeiti Medium.ttc", 0),
    ("/System/Library/Fonts/Supplemental/Arial Unicode.ttf", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
    (str(_WIN / "msyh.ttc"), 0),  # Windows: Microsoft YaHei
    (str(_WIN / "simhei.ttf"), 0),
    (str(_WIN / "simsun.ttc"), 0),
    (str(_WIN / "Deng.ttf"), 0),
]
INSTALL_HINT = ("install a CJK TrueType font (Debian/Ubuntu: apt-get install fonts-wqy-zenhei; Fedora: dnf install "
                "wqy-zenhei-fonts; macOS and Windows ship one) or set LSF_CJK_FONT=/path/font.ttf")
SYSTEM_FONT_DIRS: list[str] | None = None  # None: the OS's own font folders (tests point it elsewhere)


def usable_index(path: str | Path) -> int | None:
    """The first font in ``path`` (a .ttc holds several) with TrueType outlines covering :data:`SAMPLE`."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        fonts = TTCollection(str(path), lazy=True).fonts if magic == b"ttcf" else [TTFont(str(path), lazy=True)]
    except (OSError, TTLibError, AssertionError, ValueError, KeyError):
        return None
    for n, font in enumerate(fonts):
        try:
            if "glyf" not in font:
                continue
            cmap = font.getBestCmap() or {}
            if all(ord(c) in cmap for c in SAMPLE):
                return n
        except Exception:  # noqa: BLE001 - a damaged font file is skipped, not fatal
            continue
    return None


def _system_fonts() -> list[str]:
    from matplotlib import font_manager

    found = font_manager.findSystemFonts(fontpaths=SYSTEM_FONT_DIRS, fontext="ttf")
    # Prefer the faces that are usually Chinese (hei, song, ming, yahei, wqy …), then by name.
    hints = ("wqy", "hei", "song", "ming", "yahei", "msyh", "simsun", "fang", "kai", "cjk", "sc", "gb", "cn", "deng")
    return sorted(found, key=lambda p: (not any(h in Path(p).name.lower() for h in hints), Path(p).name.lower(), p))


@functools.cache
def _search(env: str | None, dirs: tuple[str, ...] | None) -> tuple[str, int]:
    if env:
        path, sep, idx = env.rpartition(":")  # FILE[:index]; a Windows drive letter is no index
        if not sep or not idx.isdigit():
            path, idx = env, "0"
        if not Path(path).is_file():
            raise InputError(f"LSF_CJK_FONT={env}: no such font file")
        return path, int(idx)
    for path, _ in KNOWN:
        n = usable_index(path) if Path(path).is_file() else None
        if n is not None:
            return path, n
    for path in _system_fonts():
        n = usable_index(path)
        if n is not None:
            return path, n
    raise InputError(f"no CJK TrueType font for the PDF report: {INSTALL_HINT}")


def find_cjk_font() -> tuple[str, int]:
    """``(font file, index in the collection)`` of the font the PDF report embeds."""
    return _search(os.environ.get("LSF_CJK_FONT") or None, tuple(SYSTEM_FONT_DIRS) if SYSTEM_FONT_DIRS else None)
