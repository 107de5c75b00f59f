"""Product page readers (SPEC.md "Product page input"): YAML/JSON and saved HTML -> ``Page``.

HTML: JSON-LD ``Product``, OpenGraph ``product:*`` and microdata through ``extruct`` (on one
lxml tree, parsed once), then the attribute tables/lists that Chinese shop pages use: "面料成分:
100%棉" lines (Taobao ``<li>``), ``<dl><dt>/<dd>``, two-cell ``<table>`` rows, and key/value
element pairs (Douyin/JD style ``<span>材质</span><span>PU</span>``). A page without a charset
tag is read as UTF-8, else GB18030 (saved Taobao pages); a price range (¥149.00 - 159.00) gives
``price`` (the lower bound) and ``price_high``; the site's name is cut from the ``<title>``.

Item JSON as shops and item APIs return it (no schema, but a few stable shapes): Tmall's H5
detail API (``item.title``, ``props.groupProps``, ``mock.price``), third-party item APIs for
Taobao (``data.item``: ``title``, ``priceRange``, ``groupProps``) and JD (``data.item``:
``name``, ``brandName``, ``price``, ``pcAttributes`` "品牌：Apple", ``attributes.propGroups``).
The fibre content a 天丝 claim is checked against sits in exactly those attribute lists.

Size: sellers' pages saved "complete" can be tens of MB, mostly inline base64 images. Those
are dropped before parsing (streamed, never decoded); what is left must fit ``max_markup_bytes``
or the page is refused with a clear message, so a 50 MB page can neither hang nor exhaust memory.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import loaders
from ..errors import InputError
from .ontology import normalize

MAX_FILE_BYTES = 256 * 1024 * 1024  # never read more than this at all
MAX_MARKUP_BYTES = 16 * 1024 * 1024  # markup left after dropping inline images
_CHUNK = 1 << 20
# Inline images ("data:image/png;base64,....") are most of a "saved complete" page.
_DATA_HEAD = re.compile(rb"data:[\w.+-]{1,40}/[\w.+-]{1,60};(?:[\w-]{1,40}=[\w.-]{1,40};)*base64,")
_B64_END = re.compile(rb"[^A-Za-z0-9+/=\s]")
_HEAD_MAX = 256
_KV_LINE = re.compile(r"^\s*([^:：\n]{1,16}?)\s*[:：]\s*(\S.{0,300}?)\s*$")
_PRICE_TEXT = re.compile(r"(?:¥|￥|RMB|CNY|\$|USD|EUR|€)\s*([0-9][0-9,]*(?:\.[0-9]+)?)")
_CURRENCY_SIGN = {"¥": "CNY", "￥": "CNY", "RMB": "CNY", "CNY": "CNY", "$": "USD", "USD": "USD", "EUR": "EUR", "€": "EUR"}
_NOT_KEYS = re.compile(r"^(https?|www|tel|mailto|javascript|http)$", re.I)
# "…-淘宝网", "…-tmall.com天猫", "【…】-京东": the shop site's name, not the product's.
_SITE_SUFFIX = re.compile(r"\s*[-_|–—]\s*(?:淘宝网|tmall\.com天猫|天猫tmall\.com|天猫|京东|jd\.com|拼多多|抖音商城|苏宁易购)\s*$", re.I)


@dataclass
class Page:
    """One product page as the claims comparison sees it (``pages.json`` entry)."""

    source: str  # the file given with --page
    format: str  # yaml | json | html
    url: str | None = None
    title: str | None = None
    brand: str | None = None
    price: float | None = None
    currency: str | None = None
    captured: str | None = None
    price_high: float | None = None  # upper end of a price range (SKUs priced 149-159)
    list_price: float | None = None  # the struck-through / "original" price when the page shows one
    attributes: dict[str, str] = field(default_factory=dict)
    locators: dict[str, str] = field(default_factory=dict)  # attribute -> where on the page
    images: list[str] = field(default_factory=list)
    language: str = "unknown"
    found: list[str] = field(default_factory=list)  # which readers found something
    warnings: list[str] = field(default_factory=list)
    file: str | None = None  # case-relative path of the copy (set by the stage)
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Page:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def read_page(path: str | Path, *, max_markup_bytes: int = MAX_MARKUP_BYTES) -> Page:
    """Read a product page file; ``InputError`` (one clear line) when it cannot be used."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"page {p} does not exist")
    if not p.is_file():
        raise InputError(f"page {p} is not a file")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"page {p} is empty")
    if size > MAX_FILE_BYTES:
        raise InputError(f"page {p} is {size / 2**20:.0f} MB; pages over {MAX_FILE_BYTES // 2**20} MB are refused "
                         "(save only the product page)")
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        if size > max_markup_bytes:
            raise InputError(f"page {p} is {size / 2**20:.1f} MB; a YAML/JSON page over "
                             f"{max_markup_bytes // 2**20} MB is not a product page")
        return _read_structured(p, suffix)
    data = _read_markup(p, max_markup_bytes)
    head = data[:2048].lstrip().lower()
    if suffix in (".html", ".htm", ".xhtml", ".shtml") or head.startswith((b"<!doctype", b"<html", b"<", b"\xef\xbb\xbf<")):
        return _read_html(p, data)
    if head.startswith((b"{", b"[")):
        return _read_structured(p, ".json")
    raise InputError(f"page {p}: unknown format (expected .yaml/.yml/.json or a saved .html page)")


# ----------------------------------------------------------------------------- YAML / JSON
def _read_structured(p: Path, suffix: str) -> Page:
    # Bounded (size checked by the caller; depth; no YAML aliases): a page is hostile input.
    text = loaders.decode_utf8(p.read_bytes(), f"page {p}")
    data = (loaders.load_json(text, f"page {p}") if suffix == ".json"
            else loaders.load_yaml(text, f"page {p}"))
    fmt = "json" if suffix == ".json" else "yaml"
    if isinstance(data, dict) and (data.get("@type") or data.get("@graph")):  # a bare JSON-LD document
        page = Page(source=str(p), format=fmt)
        _apply_jsonld(page, [data])
        return _finish(page, p)
    if not isinstance(data, dict):
        raise InputError(f"page {p}: expected a mapping with title/brand/price/attributes, got {type(data).__name__}")
    item = _marketplace_item(data)
    if item is not None and not any(k in data for k in ("attributes", "title", "price")):
        return _finish(_read_item_json(p, fmt, data, *item), p)
    page = Page(source=str(p), format=fmt, found=["fields"])
    for key in ("url", "title", "brand", "currency", "captured"):
        if data.get(key) is not None:
            setattr(page, key, str(data[key]))
    if data.get("price") is not None:
        page.price, cur = _price_value(data["price"])
        page.currency = page.currency or cur
    attrs = data.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise InputError(f"page {p}: 'attributes' must be a mapping of page keys to values")
    for k, v in attrs.items():
        if v is None:
            continue
        page.attributes[str(k)] = _flat(v)
        page.locators[str(k)] = f"attributes.{k}"
    imgs = data.get("images") or []
    page.images = [str(i) for i in (imgs if isinstance(imgs, list) else [imgs])]
    return _finish(page, p)


# ----------------------------------------------------------------------------- item JSON (shops' APIs)
_TITLE_KEYS = ("title", "name", "itemTitle", "skuName", "itemName")
_PRICE_KEYS = ("priceRange", "price", "salePrice", "promotionPrice", "currentPrice")
_LIST_PRICE_KEYS = ("originalPrice", "marketPriceRange", "marketPrice", "reservePrice", "listPrice")
_RANGE = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:-|~|～|至|到)\s*([0-9][0-9,]*(?:\.[0-9]+)?)")


def _marketplace_item(data: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The item object of a shop/item-API response and its JSON path ("item", "data.item")."""
    for path in ("item", "data.item", "data.itemInfo", "result.item", "data"):
        cur: Any = data
        for k in path.split("."):
            cur = cur.get(k) if isinstance(cur, dict) else None
        if isinstance(cur, dict) and any(isinstance(cur.get(k), str) and cur[k].strip() for k in _TITLE_KEYS):
            return cur, path
    return None


def _money(v: Any) -> tuple[float | None, float | None]:
    """(low, high) of a price value: 4899.00, "1998-4390", {"priceText": "258.00"}."""
    if isinstance(v, dict):
        v = v.get("priceText") or v.get("price") or v.get("value")
        if isinstance(v, dict):
            return _money(v)
    if isinstance(v, bool) or v is None:
        return None, None
    if isinstance(v, int | float):
        return (float(v), None) if v > 0 else (None, None)
    text = normalize(str(v))
    m = _RANGE.search(text)
    if m:
        lo, hi = (float(x.replace(",", "")) for x in m.groups())
        return lo, hi if hi > lo else None
    lo, _cur = _price_value(text)
    return (lo, None) if lo else (None, None)


def _read_item_json(p: Path, fmt: str, data: dict[str, Any], item: dict[str, Any], path: str) -> Page:
    page = Page(source=str(p), format=fmt, found=[f"item-json:{path}"])
    title = next(str(item[k]).strip() for k in _TITLE_KEYS if isinstance(item.get(k), str) and item[k].strip())
    page.title = title
    url = item.get("url") or item.get("itemUrl")
    if isinstance(url, str) and url:
        page.url = url
    brand = item.get("brandName") or item.get("brand")
    if isinstance(brand, str) and brand.strip():
        page.brand = brand.strip()
    # The price charged: the item's own, else the Tmall H5 "mock" price block, else the first SKU.
    mock = (data.get("mock") or {}).get("price") if isinstance(data.get("mock"), dict) else None
    candidates: list[tuple[Any, str]] = [(item.get(k), f"{path}.{k}") for k in _PRICE_KEYS]
    candidates += [(item.get("transmitPrice"), f"{path}.transmitPrice"), (mock, "mock.price.price")]
    skus = item.get("sku")
    if isinstance(skus, list) and skus and isinstance(skus[0], dict):
        candidates.append((skus[0].get("price"), f"{path}.sku[0].price"))
    for value, where in candidates:
        lo, hi = _money(value)
        if lo is not None:
            page.price, page.price_high = lo, hi
            page.locators["price"] = where
            break
    for k in _LIST_PRICE_KEYS:
        lo, _hi = _money(item.get(k))
        if lo is not None:
            page.list_price = lo
            page.locators["list_price"] = f"{path}.{k}"
            break
    page.currency = "CNY"  # Taobao, Tmall and JD item APIs price in yuan
    # Attribute lists: groupProps [{组名: [{key: value}]}] (Taobao/Tmall), pcAttributes ["品牌：Apple"]
    # and attributes.propGroups [{groupName, atts: [{attName, vals}]}] (JD).
    props = data.get("props") if isinstance(data.get("props"), dict) else {}
    for where, groups in ((f"{path}.groupProps", item.get("groupProps")), ("props.groupProps", props.get("groupProps"))):
        for gi, group in enumerate(groups if isinstance(groups, list) else []):
            for gname, kvs in (group.items() if isinstance(group, dict) else ()):
                for ki, kv in enumerate(kvs if isinstance(kvs, list) else []):
                    for k, v in (kv.items() if isinstance(kv, dict) else ()):
                        _item_attr(page, k, v, f"json:{where}[{gi}].{gname}[{ki}]")
    for ai, line in enumerate(item.get("pcAttributes") or []):
        if isinstance(line, str):
            k, sep, v = line.replace(":", "：").partition("：")
            if sep:
                _item_attr(page, k, v, f"json:{path}.pcAttributes[{ai}]")
    pg = (item.get("attributes") or {}).get("propGroups") if isinstance(item.get("attributes"), dict) else None
    for gi, group in enumerate(pg if isinstance(pg, list) else []):
        for ai, att in enumerate((group.get("atts") or []) if isinstance(group, dict) else []):
            if isinstance(att, dict) and att.get("attName"):
                vals = att.get("vals")
                _item_attr(page, att["attName"], " ".join(map(str, vals)) if isinstance(vals, list) else vals,
                           f"json:{path}.attributes.propGroups[{gi}].atts[{ai}]")
    if page.attributes:
        page.found.append("attributes")
    return page


def _item_attr(page: Page, key: Any, value: Any, locator: str) -> None:
    if value is None or isinstance(value, dict | list):
        return
    k, v = " ".join(str(key).split()), " ".join(str(value).split())
    if k and v and len(k) <= 40 and k not in page.attributes:
        page.attributes[k] = v[:500]
        page.locators[k] = locator


def _flat(v: Any) -> str:
    if isinstance(v, list | tuple):
        return " ".join(_flat(x) for x in v)
    if isinstance(v, dict):
        return " ".join(f"{k}{_flat(x)}" for k, x in v.items())
    return str(v)


def _price_value(v: Any) -> tuple[float | None, str | None]:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v), None
    s = normalize(str(v)).strip()
    cur = next((c for sign, c in _CURRENCY_SIGN.items() if sign in s), None)
    m = re.search(r"[0-9][0-9,]*(?:\.[0-9]+)?", s)
    if not m:
        return None, cur
    try:
        return float(m.group(0).replace(",", "")), cur
    except ValueError:
        return None, cur


# ----------------------------------------------------------------------------- HTML
def _read_markup(p: Path, limit: int) -> bytes:
    """Read the file in chunks, dropping inline base64 images as they stream past (an image may
    span many chunks); refuse once the markup kept exceeds ``limit``."""
    kept = bytearray()
    carry = b""
    in_data = False
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            buf = carry + chunk
            carry = b""
            pos = 0
            while pos < len(buf):
                if in_data:
                    m = _B64_END.search(buf, pos)
                    if m is None:
                        pos = len(buf)  # still inside the image: drop all of it
                        break
                    in_data, pos = False, m.start()
                    continue
                m = _DATA_HEAD.search(buf, pos)
                if m is None:
                    # keep a tail: a "data:...;base64," header may straddle the chunk boundary
                    stop = len(buf) if final else max(pos, len(buf) - _HEAD_MAX)
                    kept += buf[pos:stop]
                    carry = buf[stop:]
                    break
                kept += buf[pos:m.start()] + b"data:,"
                in_data, pos = True, m.end()
            if len(kept) > limit:
                raise InputError(
                    f"page {p} holds more than {limit // 2**20} MB of markup besides inline images "
                    f"(file {p.stat().st_size / 2**20:.1f} MB); save only the product page")
            if final:
                break
    return bytes(kept)


def _decode(data: bytes) -> str:
    """Valid UTF-8 first (a browser's "save as" writes UTF-8 but keeps the page's old
    ``charset=gbk`` tag; GB18030 would read those bytes as mojibake without an error), then the
    declared charset, then GB18030 (saved Taobao pages without a tag)."""
    m = re.search(rb"""<meta[^>]+charset=["']?([\w-]+)""", data[:4096], re.I)
    enc = m.group(1).decode("ascii", "ignore").lower() if m else "utf-8"
    if enc in ("gbk", "gb2312", "gb-2312"):
        enc = "gb18030"  # superset: saved Taobao pages declare gbk but contain gb18030
    for e in ("utf-8", enc, "gb18030"):
        try:
            return data.decode(e)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def _read_html(p: Path, data: bytes) -> Page:
    import lxml.html  # noqa: PLC0415

    text = _decode(data)
    if "\x00" in text[:4096]:
        raise InputError(f"page {p}: binary data, not an HTML page")
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except Exception as exc:  # lxml recovers from almost anything; this is an empty/garbage document
        raise InputError(f"page {p}: cannot parse as HTML ({type(exc).__name__})") from None
    page = Page(source=str(p), format="html")
    _structured_data(page, tree)
    _attribute_lists(page, tree)
    if not page.title:
        t = tree.findtext(".//title")
        if t and t.strip():
            page.title = _SITE_SUFFIX.sub("", " ".join(t.split())) or " ".join(t.split())
    if page.price is None:
        for el in tree.xpath("//*[contains(@class,'price') or contains(@id,'price') or contains(@id,'Price')"
                             " or contains(@class,'Price')]"):
            text = normalize(el.text_content() or "")
            m = _PRICE_TEXT.search(text)
            if m:
                page.price = float(m.group(1).replace(",", ""))
                rng = _RANGE.search(text[m.start(1):])
                if rng and rng.start() == 0:  # "¥149.00 - 159.00": SKUs at several prices
                    hi = float(rng.group(2).replace(",", ""))
                    page.price_high = hi if hi > page.price else None
                sign = text.strip()[:4]
                page.currency = page.currency or next((c for s, c in _CURRENCY_SIGN.items() if s in sign), None)
                page.found.append("price-element")
                page.locators.setdefault("price", f"html:{el.tag}[{el.get('id') or el.get('class') or ''}]")
                break
    for img in tree.xpath("//img[@src]")[:200]:
        src = img.get("src") or ""
        if src and not src.startswith(("data:", "http:", "https:", "//")) and src not in page.images:
            page.images.append(src)
    return _finish(page, p)


def _structured_data(page: Page, tree: Any) -> None:
    try:
        from extruct.jsonld import JsonLdExtractor  # noqa: PLC0415
        from extruct.opengraph import OpenGraphExtractor  # noqa: PLC0415
        from extruct.w3cmicrodata import LxmlMicrodataExtractor  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError(f"reading HTML pages needs extruct ({exc})") from None
    try:
        jsonld = JsonLdExtractor().extract_items(tree)
    except Exception as exc:  # malformed JSON-LD must not sink the rest of the page
        jsonld = []
        page.warnings.append(f"JSON-LD unreadable: {type(exc).__name__}")
    _apply_jsonld(page, jsonld)
    # Precedence JSON-LD > microdata > OpenGraph: the first two describe the product itself,
    # og:title is often the page title with the shop name appended.
    try:
        micro = LxmlMicrodataExtractor().extract_items(tree, None)
    except Exception as exc:
        micro = []
        page.warnings.append(f"microdata unreadable: {type(exc).__name__}")
    for item in micro:
        if _is_product(item.get("type")):
            _apply_product(page, item.get("properties") or {}, "microdata")
    try:
        for og in OpenGraphExtractor().extract_items(tree):
            _apply_opengraph(page, og.get("properties") or [])
    except Exception as exc:
        page.warnings.append(f"OpenGraph unreadable: {type(exc).__name__}")


def _is_product(t: Any) -> bool:
    types = t if isinstance(t, list) else [t]
    return any(isinstance(x, str) and x.rsplit("/", 1)[-1].rsplit("#", 1)[-1] in ("Product", "ProductGroup", "IndividualProduct")
               for x in types)


def _apply_jsonld(page: Page, items: list[Any]) -> None:
    stack = list(items)
    while stack:
        it = stack.pop(0)
        if not isinstance(it, dict):
            continue
        if isinstance(it.get("@graph"), list):
            stack.extend(it["@graph"])
        if _is_product(it.get("@type")):
            _apply_product(page, it, "json-ld")


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, list) and v else v


def _apply_product(page: Page, d: dict[str, Any], how: str) -> None:
    """Schema.org Product (JSON-LD dict or microdata properties) -> page fields."""
    if how not in page.found:
        page.found.append(how)
    name = _first(d.get("name"))
    if name and not page.title:
        page.title = str(name)
    brand = _first(d.get("brand"))
    if isinstance(brand, dict):
        brand = _first(brand.get("name") or (brand.get("properties") or {}).get("name"))
    if brand and not page.brand:
        page.brand = str(brand)
    offers = _first(d.get("offers"))
    if isinstance(offers, dict):
        props = offers.get("properties", offers)
        price = _first(props.get("price") or props.get("lowPrice"))
        if price is not None and page.price is None:
            page.price, cur = _price_value(price)
            page.currency = page.currency or cur
        cur = _first(props.get("priceCurrency"))
        if cur and not page.currency:
            page.currency = str(cur)
    if d.get("url") and not page.url:
        page.url = str(_first(d["url"]))
    for img in (d.get("image") if isinstance(d.get("image"), list) else [d.get("image")]):
        if isinstance(img, dict):
            img = img.get("url") or img.get("contentUrl")
        if isinstance(img, str) and img and img != "null" and img not in page.images:
            page.images.append(img)
    # schema.org properties that carry specs, plus additionalProperty name/value pairs.
    for key in ("material", "countryOfOrigin", "color", "size", "category"):
        v = _first(d.get(key))
        if isinstance(v, dict):
            v = v.get("name") or (v.get("properties") or {}).get("name")
        if v:
            page.attributes.setdefault(key, str(v))
            page.locators.setdefault(key, f"{how}:Product.{key}")
    for prop in d.get("additionalProperty") or []:
        props = prop.get("properties", prop) if isinstance(prop, dict) else {}
        k, v = _first(props.get("name")), _first(props.get("value"))
        if k and v is not None:
            page.attributes.setdefault(str(k), str(v))
            page.locators.setdefault(str(k), f"{how}:Product.additionalProperty[{k}]")


def _apply_opengraph(page: Page, props: list[Any]) -> None:
    d: dict[str, str] = {}
    for k, v in props:
        d.setdefault(k, v)
    if not any(k.startswith(("product:", "og:")) for k in d):
        return
    page.found.append("opengraph")
    page.title = page.title or d.get("og:title")
    page.url = page.url or d.get("og:url")
    page.brand = page.brand or d.get("product:brand") or d.get("og:brand")
    amount = d.get("product:price:amount") or d.get("og:price:amount")
    if amount and page.price is None:
        page.price, cur = _price_value(amount)
        page.currency = page.currency or cur
    page.currency = page.currency or d.get("product:price:currency") or d.get("og:price:currency")
    for k in ("og:image", "og:image:url", "og:image:secure_url"):
        if d.get(k) and d[k] not in page.images:
            page.images.append(d[k])
    for k, v in d.items():
        if k.startswith("product:") and not k.startswith("product:price") and v:
            page.attributes.setdefault(k, v)
            page.locators.setdefault(k, f'opengraph:meta[property="{k}"]')


def _add_attr(page: Page, key: str, value: str, locator: str) -> None:
    key = " ".join(key.split()).strip("·•*-–—:： ")
    value = " ".join(value.split())
    # A key starts with a letter or a CJK character: "￥39.9: 已售1.2万" is a price line, not an attribute.
    if not key or not value or len(key) > 16 or _NOT_KEYS.match(key) or not (key[0].isalpha()):
        return
    if key not in page.attributes:
        page.attributes[key] = value[:500]
        page.locators[key] = locator
        if "attributes" not in page.found:
            page.found.append("attributes")


def _attribute_lists(page: Page, tree: Any) -> None:
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    # <dl><dt>key</dt><dd>value</dd></dl>
    for n, dl in enumerate(tree.iter("dl")):
        key = None
        for child in dl:
            if child.tag == "dt":
                key = child.text_content()
            elif child.tag == "dd" and key:
                _add_attr(page, key, child.text_content(), f"html:dl[{n + 1}]/dt[{key.strip()}]")
                key = None
    # two-cell table rows (also th + td)
    for n, tr in enumerate(tree.iter("tr")):
        cells = [c for c in tr if c.tag in ("td", "th")]
        for i in range(0, len(cells) - 1, 2):  # some tables put two key/value pairs per row
            k, v = cells[i].text_content(), cells[i + 1].text_content()
            if k.strip() and v.strip():
                _add_attr(page, k, v, f"html:tr[{n + 1}]/td[{k.strip()}]")
    # "key: value" in list items, paragraphs, spans and divs without element children
    for el in tree.iter("li", "p", "span", "div", "td", "dd"):
        if el.tag in ("div", "span") and len(el):
            continue
        txt = el.text_content()
        if not txt or len(txt) > 400:
            continue
        for line in txt.splitlines():
            m = _KV_LINE.match(line)
            if m:
                _add_attr(page, m.group(1), m.group(2), f"html:{el.tag}[{m.group(1).strip()}]")
    # key/value element pairs: <div><span>材质</span><span>PU</span></div>
    for el in tree.iter("div", "li", "p"):
        kids = [c for c in el if isinstance(c.tag, str)]
        if len(kids) == 2 and not len(kids[0]) and not len(kids[1]):
            k, v = (kids[0].text_content() or "").strip(), (kids[1].text_content() or "").strip()
            if k and v and len(k) <= 10 and not re.search(r"[。！？!?]", k) and _KV_LINE.match(k + ":" + v):
                _add_attr(page, k.rstrip(":："), v, f"html:{el.tag}/{kids[0].tag}[{k.rstrip(':：')}]")


# ----------------------------------------------------------------------------- common
def _language(page: Page) -> str:
    text = " ".join([page.title or "", *page.attributes.keys(), *page.attributes.values()])
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    kana = sum(1 for c in text if "\u3040" <= c <= "\u30ff")
    hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7af")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    other = sum(1 for c in text if c.isalpha() and not c.isascii()) - cjk - kana - hangul
    if kana > 3:
        return "ja"
    if hangul > 3:
        return "ko"
    if cjk >= max(3, latin // 4):
        return "zh"
    if other > latin // 10 and other > 3:
        return "other"
    return "en" if latin else "unknown"


def _finish(page: Page, p: Path) -> Page:
    page.language = _language(page)
    if page.brand is None:
        for k, v in page.attributes.items():
            if k.strip().lower() in ("品牌", "品牌名称", "brand", "product:brand"):
                page.brand = v
                break
    if page.price is None:
        for k, v in page.attributes.items():
            if k.strip() in ("价格", "售价", "到手价", "price"):
                page.price, cur = _price_value(v)
                page.currency = page.currency or cur
                break
    if page.price is not None and not page.currency and page.language == "zh":
        page.currency = "CNY"
    if not (page.title or page.brand or page.price is not None or page.attributes):
        raise InputError(
            f"page {p}: no product fields found (looked for "
            + ("title, brand, price and attributes); not JSON-LD or item-API JSON either (item/data.item "
               "with a title or name"
               if page.format != "html" else
               "JSON-LD Product, OpenGraph product:*, microdata, <title>, 'key: value' lists, <dl> and <table> attributes")
            + ")")
    if not page.attributes:
        page.warnings.append("no attribute table/list found: material, origin and metal claims cannot be compared")
    if page.language not in ("zh", "en", "unknown"):
        page.warnings.append(f"page language looks like '{page.language}': only Chinese and English attribute words are understood")
    return page
