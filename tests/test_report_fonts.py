"""The PDF report's CJK font is found on any OS (issue 16): known files first, else every font the
system has, checked for TrueType outlines and CJK coverage with fontTools. Here a folder laid out
like a Windows or macOS font folder (a CJK font under another name, a Latin-only font, a broken
file) stands in for the OS's own folders, so the search itself is what is tested."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lsforensics.errors import InputError
from lsforensics.report import fonts

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture
def no_known(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "KNOWN", [(str(tmp_path / "nowhere" / "msyh.ttc"), 0)])
    monkeypatch.delenv("LSF_CJK_FONT", raising=False)
    fonts._search.cache_clear()
    yield
    fonts._search.cache_clear()


def test_this_machine_finds_a_known_font() -> None:
    fonts._search.cache_clear()
    path, idx = fonts.find_cjk_font()
    assert Path(path).is_file() and fonts.usable_index(path) == idx
    print(f"CJK font: {path} [{idx}]")


def test_a_system_folder_is_searched_and_latin_or_broken_fonts_are_skipped(no_known, monkeypatch, tmp_path) -> None:
    folder = tmp_path / "Fonts"  # as C:\\Windows\\Fonts or /Library/Fonts would hold them
    folder.mkdir()
    shutil.copy(DEJAVU, folder / "arial.ttf")  # Latin only: no CJK glyphs
    (folder / "broken.ttf").write_bytes(b"\x00\x01\x00\x00" + b"junk" * 100)
    shutil.copy(WQY, folder / "zz-company-font.ttc")  # a CJK font whose name says nothing
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", [str(folder)])
    assert fonts.usable_index(folder / "arial.ttf") is None
    assert fonts.usable_index(folder / "broken.ttf") is None
    path, idx = fonts.find_cjk_font()
    assert Path(path).name == "zz-company-font.ttc" and idx == 0


def test_no_font_is_one_clear_error_and_the_variable_wins(no_known, monkeypatch, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(DEJAVU, empty / "latin.ttf")
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", [str(empty)])
    with pytest.raises(InputError, match="apt-get install fonts-wqy-zenhei"):
        fonts.find_cjk_font()
    monkeypatch.setenv("LSF_CJK_FONT", f"{WQY}:0")
    assert fonts.find_cjk_font() == (str(WQY), 0)
    monkeypatch.setenv("LSF_CJK_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(InputError, match="no such font file"):
        fonts.find_cjk_font()
