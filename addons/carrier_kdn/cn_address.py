"""Split a Chinese address the way KDNiao wants it (reference §1.5), without the ORM.

ProvinceName keeps 省 (municipalities bare: 北京, 上海, 天津, 重庆), CityName keeps 市, ExpAreaName is the
district (区/县/旗/县级市), Address holds the rest without repeating them.
"""

import re

MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
DISTRICT = re.compile(r"^(.{1,12}?(?:新区|自治县|自治旗|区|县|旗|市))")


class AddressError(ValueError):
    """The address lacks a part KDNiao requires; ``part`` names it (province, city, district, street)."""

    def __init__(self, part):
        super().__init__(part)
        self.part = part


def province_name(name):
    name = (name or "").strip()
    for municipality in MUNICIPALITIES:
        if name.startswith(municipality):
            return municipality
    return name


def split_address(province, city, street, street2=""):
    province_full = (province or "").strip()
    province = province_name(province_full)
    city = (city or "").strip()
    if not province:
        raise AddressError("province")
    if province in MUNICIPALITIES and not city:
        city = province + "市"
    if not city:
        raise AddressError("city")
    rest = " ".join(part.strip() for part in (street, street2) if part and part.strip())
    for prefix in (province_full, province, city):
        if prefix and rest.startswith(prefix):
            rest = rest[len(prefix):]
    match = DISTRICT.match(rest)
    if not match:
        raise AddressError("district")
    district = match.group(1)
    address = rest[len(district):].strip()
    if not address:
        raise AddressError("street")
    return {"ProvinceName": province, "CityName": city, "ExpAreaName": district, "Address": address}


def is_mobile(number):
    digits = re.sub(r"\D", "", number or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return len(digits) == 11 and digits.startswith("1")


def phone_fields(*numbers):
    """Mobile and/or Tel from the first usable numbers (KDNiao needs one of them)."""
    fields = {}
    for number in numbers:
        number = (number or "").strip()
        if not number:
            continue
        digits = re.sub(r"\D", "", number)
        if is_mobile(number) and "Mobile" not in fields:
            fields["Mobile"] = digits[-11:]
        elif len(digits) >= 10 and "Tel" not in fields:  # a landline with its area code
            fields["Tel"] = number
    return fields
