"""Real saved item pages and item-API JSON (../shared/realdata/livestream_text/pages/): every
expected field of pages/expected.tsv is read, and a page that cannot be read says which file
and what was missing in one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lsforensics.claims.pages import read_page
from lsforensics.errors import InputError


@pytest.fixture(scope="module")
def pages_dir(realdata: Path) -> Path:
    return realdata / "livestream_text" / "pages"


def _expected(pages_dir: Path) -> list[dict[str, str]]:
    with open(pages_dir / "expected.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _value(page, field: str):  # noqa: ANN001, ANN202
    if field.startswith("attr:"):
        return page.attributes.get(field[5:])
    return getattr(page, field)


def test_every_expected_field_of_the_real_pages(pages_dir: Path) -> None:
    rows = _expected(pages_dir)
    pages = {name: read_page(pages_dir / name) for name in {r["file"] for r in rows}}
    ok, bad = 0, []
    for r in rows:
        page = pages[r["file"]]
        got = _value(page, r["field"])
        want = r["expected"]
        if r["field"] == "price":
            good = got is not None and abs(float(got) - float(want)) < 0.005
        elif r["field"] == "title":
            good = got is not None and want in got  # the expected start of the title (no shop suffix)
        else:
            good = got is not None and str(got).strip() == want
        ok += good
        if not good:
            bad.append((r["file"], r["field"], want, got))
    for name, page in sorted(pages.items()):
        print(f"{name}: title={page.title!r} brand={page.brand!r} price={page.price} high={page.price_high} "
              f"list={page.list_price} attributes={len(page.attributes)} found={page.found}")
    print(f"expected fields read: {ok}/{len(rows)} in {len(pages)} pages; wrong: {bad}")
    assert bad == []
    assert len(pages) == 5
    # What a 天丝 or 真丝 claim is compared with, and where it was on the page.
    kab = pages["tmall_kabeilin_583789686010.detail.json"]
    assert kab.locators["材质成分"].startswith("json:props.groupProps[0].基本信息")
    assert not pages["taobao_kbdfans_562283240178.html"].title.endswith("淘宝网")
    assert pages["taobao_kbdfans_562283240178.html"].price_high == 159.0  # ¥149.00 - 159.00
    mumo = pages["taobao_mumo_16793826526.api.json"]
    assert (mumo.price, mumo.price_high, mumo.list_price) == (1998.0, 4390.0, 2498.0)


def test_gbk_page_without_charset_tag(pages_dir: Path, tmp_path: Path) -> None:
    """A Taobao page saved as GBK with no charset tag reads the same as the UTF-8 one."""
    src = pages_dir / "taobao_kbdfans_562283240178.html"
    html = src.read_text(encoding="utf-8").replace('<meta charset="gbk">', "")
    gbk = tmp_path / "item.html"
    gbk.write_bytes(html.encode("gb18030"))
    a, b = read_page(src), read_page(gbk)
    assert b.title == a.title and b.attributes["品牌"] == "KBDfans" and b.attributes == a.attributes
    assert b.price == 149.0


@pytest.mark.parametrize(("doc", "needle"), [
    ({"data": {"item": {"itemId": 1, "sku": []}}}, "no product fields found"),
    ({"retcode": "0000", "data": {}}, "item-API JSON either (item/data.item with a title or name)"),
])
def test_unreadable_item_json_names_file_and_what_is_missing(tmp_path: Path, doc: dict, needle: str) -> None:
    p = tmp_path / "broken.api.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_page(p)
    msg = str(exc.value)
    assert str(p) in msg and needle in msg and "\n" not in msg, msg
