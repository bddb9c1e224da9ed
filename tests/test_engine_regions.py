"""China's divisions (cn_regions), phone numbers (mobile) and the messages of the engines, without Odoo."""

import json
import re

import pytest

from tests.engine_loader import ENGINES_DIR, load_engines

engines = load_engines()
cn_regions = engines.cn_regions
mobile = engines.mobile
Message = engines.messages.Message


@pytest.fixture(scope="module")
def divisions():
    return cn_regions.load_divisions()


def codes(area):
    return area.province_code, area.city_code, area.district_code


@pytest.mark.parametrize(
    ("province", "city", "district", "expected"),
    [
        ("北京市", "北京市", "朝阳区", ("110000", "110100", "110105")),
        ("广东省", "深圳市", "南山区", ("440000", "440300", "440305")),
        ("浙江省", "杭州市", "西湖区", ("330000", "330100", "330106")),
        # Short forms.
        ("广东", "深圳", "南山", ("440000", "440300", "440305")),
        ("浙江", "杭州", "西湖", ("330000", "330100", "330106")),
        ("广西", "南宁", "青秀", ("450000", "450100", "450103")),
        (" 广东省 ", "深 圳 市", "南山区\u3000", ("440000", "440300", "440305")),
        # County-level cities (县级市), also named in the city field.
        ("浙江省", "杭州市", "建德市", ("330000", "330100", "330182")),
        ("浙江省", "义乌市", "稠城街道", ("330000", "330700", "330782")),
        # Autonomous prefectures and counties, full and short.
        ("湖北省", "恩施土家族苗族自治州", "利川市", ("420000", "422800", "422802")),
        ("湖北省", "恩施州", "利川市", ("420000", "422800", "422802")),
        ("吉林省", "延边", "延吉市", ("220000", "222400", "222401")),
        ("辽宁省", "本溪市", "本溪满族自治县", ("210000", "210500", "210521")),
        ("湖北", "宜昌", "长阳", ("420000", "420500", "420528")),
        ("内蒙古", "锡林郭勒盟", "锡林浩特市", ("150000", "152500", "152502")),
        ("四川省", "凉山彝族自治州", "会理市", ("510000", "513400", "513402")),
        # Municipalities, whatever the platform puts as city.
        ("上海", "市辖区", "浦东新区", ("310000", "310100", "310115")),
        ("北京", "朝阳区", "三环以内", ("110000", "110100", "110105")),
        ("重庆", "重庆市", "忠县", ("500000", "500100", "500233")),
        ("重庆市", "县", "石柱土家族自治县", ("500000", "500100", "500240")),
    ],
)
def test_resolves_addresses_as_platforms_write_them(divisions, province, city, district, expected):
    assert codes(divisions.resolve(province, city, district)) == expected


def test_resolved_names_are_the_official_ones(divisions):
    area = divisions.resolve("广东", "深圳", "南山")
    assert (area.province, area.city, area.district) == ("广东省", "深圳市", "南山区")
    assert area.label == "广东省/深圳市/南山区"


def test_county_level_units_directly_under_a_province(divisions):
    assert codes(divisions.resolve("湖北省", "仙桃市", "郑场镇")) == ("420000", "429004", "")
    assert codes(divisions.resolve("湖北省", "省直辖县级行政区划", "天门市")) == ("420000", "429006", "")


def test_a_city_without_counties_keeps_its_town(divisions):
    area = divisions.resolve("广东省", "东莞市", "长安镇")
    assert codes(area) == ("440000", "441900", "")
    assert area.district == "长安镇"


def test_rejects_an_unknown_province(divisions):
    with pytest.raises(cn_regions.AreaNotResolved) as error:
        divisions.resolve("火星", "深圳市", "南山区")
    assert error.value.part == cn_regions.PROVINCE
    assert error.value.message.code == "address.province_unknown"
    assert "火星" in error.value.message.render()


def test_rejects_a_city_of_another_province_and_says_where_it_is(divisions):
    with pytest.raises(cn_regions.AreaNotResolved) as error:
        divisions.resolve("广东省", "杭州市", "西湖区")
    assert (error.value.part, error.value.value) == (cn_regions.CITY, "杭州市")
    assert error.value.message.render() == "杭州市 is not in 广东省: it is in 浙江省."


def test_rejects_a_district_not_in_that_city_and_says_where_it_is(divisions):
    with pytest.raises(cn_regions.AreaNotResolved) as error:
        divisions.resolve("广东省", "深圳市", "西湖区")
    assert (error.value.part, error.value.value) == (cn_regions.DISTRICT, "西湖区")
    assert error.value.message.code == "address.district_elsewhere"
    assert error.value.message.args["found_in"] == "浙江省/杭州市, 江西省/南昌市"


@pytest.mark.parametrize(
    ("province", "city", "district", "part", "code"),
    [
        ("", "深圳市", "南山区", "province", "address.province_missing"),
        ("广东省", "", "南山区", "city", "address.city_missing"),
        ("广东省", "深圳市", "", "district", "address.district_missing"),
        ("广东省", "广州市", "其它区", "district", "address.district_unknown"),
        ("广东省", "火星市", "南山区", "city", "address.city_unknown"),
        ("新疆", "伊犁", "伊宁", "district", "address.ambiguous"),
    ],
)
def test_incomplete_unknown_or_ambiguous_parts_name_the_wrong_part(divisions, province, city, district, part, code):
    with pytest.raises(cn_regions.AreaNotResolved) as error:
        divisions.resolve(province, city, district)
    assert error.value.part == part
    assert error.value.message.code == code


def test_area_of_a_stored_code(divisions):
    assert divisions.area_of("330106") == divisions.resolve("浙江省", "杭州市", "西湖区")
    assert codes(divisions.area_of("330100")) == ("330000", "330100", "")


def test_named_region_sets(divisions):
    sets = divisions.named_region_sets()
    assert divisions.resolve("上海", "上海", "浦东新区") in sets["江浙沪"]
    assert divisions.resolve("浙江", "杭州", "西湖") in sets["江浙沪"]
    assert divisions.resolve("广东", "深圳", "南山") not in sets["江浙沪"]
    assert divisions.resolve("新疆", "乌鲁木齐", "天山区") in sets["偏远地区"]
    assert divisions.resolve("广东", "深圳", "南山") in sets["珠三角"]
    assert divisions.resolve("广东", "韶关", "武江区") not in sets["珠三角"]
    assert divisions.resolve("北京", "北京", "朝阳") in sets["华北"]


def test_region_set_members_by_name_or_code(divisions):
    region = divisions.region_set("杭州西湖和南京", ["浙江/杭州/西湖", "320100"])
    assert region.codes == frozenset({"330106", "320100"})
    assert divisions.resolve("江苏", "南京", "玄武区") in region
    assert divisions.resolve("浙江", "杭州", "上城区") not in region


@pytest.mark.parametrize(
    ("raw", "kind", "number", "extension"),
    [
        ("13800138000", mobile.MOBILE, "13800138000", ""),
        ("+86 138-0013-8000", mobile.MOBILE, "13800138000", ""),
        ("8613800138000", mobile.MOBILE, "13800138000", ""),
        ("0086 138 0013 8000", mobile.MOBILE, "13800138000", ""),
        ("１３８００１３８０００", mobile.MOBILE, "13800138000", ""),
        ("19912345678", mobile.MOBILE, "19912345678", ""),
        ("17001234567", mobile.VIRTUAL, "17001234567", ""),
        ("17112345678", mobile.VIRTUAL, "17112345678", ""),
        ("13800138000-1234", mobile.PRIVACY, "13800138000", "1234"),
        ("13800138000转1234", mobile.PRIVACY, "13800138000", "1234"),
        ("13800138000#56", mobile.PRIVACY, "13800138000", "56"),
        ("138****8000", mobile.MASKED, "", ""),
        ("010-88886666", mobile.LANDLINE, "01088886666", ""),
        ("0571 8888 6666", mobile.LANDLINE, "057188886666", ""),
        ("12345678901", mobile.INVALID, "", ""),
        ("1380013800", mobile.INVALID, "", ""),
        ("138001380001", mobile.INVALID, "", ""),
        ("not a number", mobile.INVALID, "", ""),
        ("", mobile.MISSING, "", ""),
    ],
)
def test_phone_numbers(raw, kind, number, extension):
    assert mobile.check_phone(raw) == mobile.PhoneCheck(kind, number, extension)


def test_messages_are_templates_with_named_placeholders_and_json_ready():
    message = Message("x.y", "%(carrier)s costs %(cost)s.", {"carrier": "中通", "cost": "7.00"})
    assert message.render() == "中通 costs 7.00."
    data = message.to_data()
    assert data == {"code": "x.y", "source": "%(carrier)s costs %(cost)s.", "module": "shop_logistics",
                    "args": {"carrier": "中通", "cost": "7.00"}}
    assert json.loads(json.dumps(data)) == data


def test_engine_templates_only_use_named_placeholders():
    """Every message template of the engines formats with a dict (the form env._ and lazy_text use)."""
    for module in (engines.audit, engines.allocation, engines.cn_regions, engines.merge_split, engines.rate_card,
                   engines.routing):
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and "%" in value:
                assert not re.search(r"%[^(%]", value), f"{module.__name__}.{name} has a positional placeholder"
                names = re.findall(r"%\((\w+)\)s", value)
                assert value % dict.fromkeys(names, "x")


def test_no_odoo_import_in_the_engines():
    for path in ENGINES_DIR.glob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+odoo\b", path.read_text(encoding="utf-8"), re.MULTILINE), path


def test_every_engine_template_has_a_zh_cn_translation():
    """What Odoo extracts from the engines (calls of ``_lt``) is translated in shop_logistics' zh_CN.po."""
    polib = pytest.importorskip("polib")
    extract = pytest.importorskip("babel.messages.extract")
    templates = set()
    for path in ENGINES_DIR.glob("*.py"):
        with path.open("rb") as source:
            templates.update(message for _line, _name, message, _comments
                             in extract.extract_python(source, {"_": None, "_lt": None}, [], {}))
    po_path = ENGINES_DIR.parent / "i18n" / "zh_CN.po"
    translated = {entry.msgid: entry.msgstr for entry in polib.pofile(str(po_path)) if entry.msgstr}
    assert len(templates) > 70
    assert sorted(templates - set(translated)) == []
    for template in templates:
        assert sorted(re.findall(r"%\((\w+)\)s", translated[template])) == sorted(
            re.findall(r"%\((\w+)\)s", template)), template
