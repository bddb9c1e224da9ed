"""Receiver phone numbers as platforms send them: what kind of number it is, and whether a courier can call it.

Accepted forms: a mainland mobile number, 11 digits ``1[3-9]xxxxxxxxx``, with an optional ``+86``, ``0086`` or
``86`` prefix and any spaces, dashes, dots or brackets (``+86 138-0013-8000``, full-width digits too).

Kinds (``PhoneCheck.kind``):

- ``mobile``: an ordinary mobile number;
- ``virtual``: a number of a virtual operator (MVNO: 162, 165, 167, 170, 171). It is a real, callable
  number, but such numbers are also handed out for fraud, so the audit can be told to hold them;
- ``privacy``: a platform privacy number (隐私号/虚拟号) with an extension, ``13800138000-1234``,
  ``13800138000转1234``, ``13800138000#1234``: the courier dials the number and then the extension. It is how
  Taobao, Pinduoduo and Douyin protect receivers, so it is valid;
- ``masked``: the platform sent the number masked (``138****8000``). It cannot be validated here: the real
  number stays on the platform and the carrier gets it decrypted at waybill time. Masked is therefore not a
  reason to hold an order of a shop whose platform masks data (``Order.contact_masked``); from any other shop
  a masked number is held, because nobody will get the real one;
- ``landline``: a fixed line with area code (``010-88886666``, ``0571 8888 6666``), valid for a courier's
  call but no mobile: no SMS pickup code. The audit holds it unless told to accept landlines;
- ``invalid``: anything else (too short, too long, wrong prefix, letters) and ``missing``: nothing at all.
"""

import re
import unicodedata
from dataclasses import dataclass

MOBILE = "mobile"
VIRTUAL = "virtual"
PRIVACY = "privacy"
MASKED = "masked"
LANDLINE = "landline"
INVALID = "invalid"
MISSING = "missing"

VIRTUAL_PREFIXES = ("162", "165", "167", "170", "171")

MOBILE_NUMBER = re.compile(r"1[3-9]\d{9}")
LANDLINE_NUMBER = re.compile(r"0\d{9,11}")
COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1[3-9]\d{9}$)")
# 138****8000, 138 **** 8000, ****8000, 1381234****.
MASKED_NUMBER = re.compile(r"^(?:\+?86)?[\d*]{3,}$")
# An extension written as such: "转1234", "分机1234", "#1234", ",1234", "ext 1234"; a dash is handled apart.
EXPLICIT_EXTENSION = re.compile(r"^(?P<number>.+?)(?:转|分机|#|,|;|ext\.?|x)(?P<extension>\d{1,6})$", re.IGNORECASE)
SEPARATORS = re.compile(r"[\s\-.()（）]+")


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    kind: str
    number: str = ""  # the digits without prefix and separators ("" when masked, missing or invalid)
    extension: str = ""

    @property
    def callable(self):
        return self.kind in (MOBILE, VIRTUAL, PRIVACY, LANDLINE)


def check_phone(raw):
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        return PhoneCheck(MISSING)
    compact = re.sub(r"\s+", "", text)
    if "*" in compact:
        return PhoneCheck(MASKED) if MASKED_NUMBER.match(SEPARATORS.sub("", compact)) else PhoneCheck(INVALID)
    number, extension = split_extension(compact)
    digits = digits_of(number)
    if MOBILE_NUMBER.fullmatch(digits):
        if extension:
            return PhoneCheck(PRIVACY, digits, extension)
        kind = VIRTUAL if digits.startswith(VIRTUAL_PREFIXES) else MOBILE
        return PhoneCheck(kind, digits)
    if LANDLINE_NUMBER.fullmatch(digits):
        return PhoneCheck(LANDLINE, digits, extension)
    return PhoneCheck(INVALID)


def digits_of(number):
    """"+86 138-0013-8000" → "13800138000"."""
    return COUNTRY_PREFIX.sub("", SEPARATORS.sub("", number))


def split_extension(compact):
    """("13800138000", "1234") for "13800138000-1234"; the dashes of 138-0013-8000 are no extension."""
    match = EXPLICIT_EXTENSION.match(compact)
    if match:
        return match.group("number"), match.group("extension")
    number, dash, extension = compact.rpartition("-")
    if dash and extension.isdigit() and len(extension) <= 6:
        digits = digits_of(number)
        if MOBILE_NUMBER.fullmatch(digits) or LANDLINE_NUMBER.fullmatch(digits):
            return number, extension
    return compact, ""
