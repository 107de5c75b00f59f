"""Chinese price parsing, price mentions and the price model rules."""

from __future__ import annotations

import pytest

from lsforensics.claims.price import (
    AmountError,
    PriceRules,
    find_prices,
    judge,
    parse_amount,
    retail_reference,
)
from lsforensics.errors import InputError
from lsforensics.rules import load_rules

AMOUNTS = [
    ("三万多", 30000, 40000, True), ("八百八", 880, 880, False), ("两万多", 20000, 30000, True),
    ("三百九", 390, 390, False), ("两万五", 25000, 25000, False), ("一千零八", 1008, 1008, False),
    ("九块九", 9.9, 9.9, False), ("1.2万", 12000, 12000, False), ("3w", 30000, 30000, False),
    ("¥1,299", 1299, 1299, False), ("399元", 399, 399, False), ("十八", 18, 18, False), ("一万二", 12000, 12000, False),
    ("两千零九十九", 2099, 2099, False), ("三九九", 399, 399, False), ("五千块", 5000, 5000, False),
    ("三千五", 3500, 3500, False), ("一百二十八块", 128, 128, False), ("两百多", 200, 300, True), ("八千", 8000, 8000, False),
]


@pytest.mark.parametrize(("text", "value", "upper", "approx"), AMOUNTS)
def test_parse_amount(text, value, upper, approx):
    a = parse_amount(text)
    assert a.value == pytest.approx(value) and a.upper == pytest.approx(upper) and a.approx is approx


@pytest.mark.parametrize("text", ["", "包包", "abc", "万万"])
def test_not_amounts(text):
    with pytest.raises(AmountError):
        parse_amount(text)


@pytest.fixture(scope="module")
def pr():
    return PriceRules.from_rules(load_rules())


@pytest.mark.parametrize(("text", "expected"), [
    ("专柜价三万多，今天只要八百八", [("reference", 30000), ("offer", 880)]),
    ("这款H家的皮带用的是头层牛皮，专柜价格两万多，今天只要三百九。", [("reference", 20000), ("offer", 390)]),
    ("原版1:1 ¥199", [("price", 199)]),
    ("今天只要¥390", [("offer", 390)]),
    ("吊牌价2999元，到手价599元", [("reference", 2999), ("offer", 599)]),
    ("喜欢的宝宝们赶紧下单，库存只有最后五十件了。", []),
    ("点击下方小黄车，一号链接就是今天的福利款。", []),
    ("这款项链是十八K金的，意大利进口。", []),
    ("我们支持七天无理由退货", []),
    ("这款小箱的包包今天福利价和原版一模一样。", []),
    ("S925银 3克", []),
])
def test_find_prices(pr, text, expected):
    got = [(p.role, p.amount.value) for p in find_prices(text, pr)]
    assert got == expected


def test_price_rules(pr):
    # brands.yaml (kind: brands, retail_cny) wins per category; prices.yaml keeps the tier and `any`
    rng, cat, rule = retail_reference(pr, "Hermès", "accessory")
    assert cat == "accessory" and rng[0] >= 3000 and rule.startswith(("brands/", "prices/"))
    assert pr.brand("HERMES")["tier"] == "never_discount" and pr.brand("爱马仕") is pr.brand("Hermes")
    assert pr.brand("Coach")["tier"] == "outlet"
    assert retail_reference(pr, "Nobody", "bag") is None
    assert pr.category_of("夏季天丝短裤女") == "apparel" and pr.category_of("H家的皮带") == "accessory"
    assert pr.category_of("老花托特包") == "bag"
    # thresholds: never_discount flags 50% off; an outlet brand does not
    assert judge(0.5, pr.tier("never_discount")) == "medium"
    assert judge(0.5, pr.tier("outlet")) is None and judge(0.05, pr.tier("outlet")) == "high"


def test_bad_price_rules_name_file_and_line(tmp_path):
    (tmp_path / "p.yaml").write_text("kind: prices\nrules:\n  - id: prices.x\n    brand: X\n    tier: nonsense\n",
                                     encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.yaml:5: .*unknown tier 'nonsense'"):
        load_rules([tmp_path])
    (tmp_path / "p.yaml").write_text("kind: prices\nrules:\n  - id: prices.x\n    retail: {bag: [500, 100]}\n",
                                     encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.yaml:4: .*0 < min <= max"):
        load_rules([tmp_path])


def test_bad_material_rules_name_file_and_line(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "kind: materials\nrules:\n  - id: fibre.x\n    category: fibre\n    terms: [x]\n    is_a: [fibre.nothing]\n",
        encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.yaml:6: .*unknown material 'fibre.nothing'"):
        load_rules([tmp_path])
    (tmp_path / "m.yaml").write_text("kind: materials\nrules:\n  - id: x\n    category: plastic\n    terms: [x]\n",
                                     encoding="utf-8")
    with pytest.raises(InputError, match=r"m\.yaml:4: .*category must be one of"):
        load_rules([tmp_path])


def test_user_rules_extend_the_ontology(tmp_path):
    """A user folder adds a fibre (data, not code) and it is found in text."""
    from lsforensics.claims.ontology import Ontology

    (tmp_path / "m.yaml").write_text(
        "kind: materials\nrules:\n  - {id: fibre.soy, category: fibre, name: 大豆蛋白纤维, terms: [大豆纤维, 大豆蛋白纤维]}\n",
        encoding="utf-8")
    onto = Ontology.from_rules(load_rules([tmp_path]))
    assert [m.material.id for m in onto.find("大豆纤维的睡衣")] == ["fibre.soy"]
