"""E-waybill (电子面单) label rendering, in plain Python (no Odoo).

One layout description (``LAYOUTS``: zones in millimetres from the top-left corner of the label) drives two
painters: reportlab for PDF, Pillow for the printer raster that TSPL, ZPL II and ESC/POS jobs carry.
Zones follow the platform standard templates measured in the project note "labels-and-printers.md" §2.1
(GB/T 41833-2022's own size tables are not public).

Printer jobs are raster only: CJK text has to be a bitmap anyway (printer-resident Chinese fonts differ per
model and firmware), and the barcode and QR code are drawn at the printer's own resolution with a whole number
of dots per module, which is as crisp as the printer's native BARCODE/^BC and gives the same label on every
language. ``raster_from_tspl``/``raster_from_zpl``/``raster_from_escpos`` parse those jobs back into images.

A carrier's own print template (HTML, ``TemplateLabel``) can take the place of our layout: wkhtmltopdf prints it
at the label's size, and pdftoppm rasterises it for the printer languages.
"""

import copy
import io
import math
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import barcode
import qrcode
from escpos.capabilities import Profile
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

try:
    from pypdf import PdfReader, PdfWriter
except ImportError:  # Odoo 18 accepts either
    from PyPDF2 import PdfReader, PdfWriter

FORMATS = ("pdf", "tspl", "zpl", "escpos")

# Typography, in em (the font size) or mm.
ASCENT = 0.88  # baseline below the top of a line, CJK ideographs fill about 0.88 em above it
LINE_PITCH = 1.2
MIN_SHRINK = 0.6  # text shrinks down to 60 % of its zone's size before being cut with an ellipsis,
MIN_FONT_MM = 2.0  # but not below 16 dots at 203 dpi, the smallest Chinese font of thermal printers
ELLIPSIS = "…"
FAUX_BOLD_STROKE = 0.04  # PDF bold = fill + stroke of this width: one regular font file per script is embedded
RULE_MM = 0.25  # 2 dots at 203 dpi
HRI_GAP_MM = 0.6  # between the bars and the human-readable number

QUIET_MODULES = 10  # Code 128 quiet zone, each side
MIN_MODULE_DOTS = 2  # 0.25 mm at 203 dpi, the narrowest bar a handheld scanner reads reliably
PDF_DOTS_PER_MM = 8  # PDF barcodes and QR modules snap to whole dots of a 203-dpi printer
QR_QUIET_MODULES = 4

# UNCONFIRMED in the reference: the gap of e-waybill stock (2 mm suits the common fan-fold paper; printers can
# be recalibrated with GAPDETECT) and which DIRECTION brings the label out upright (DIRECTION 1,0 as in the
# TSPL examples of the reference; flip on the printer record if a model prints it upside down).
TSPL_GAP_MM = 2
TSPL_DIRECTION = "1,0"

TERMS = "快件送达收件人地址，经收件人或收件人允许的代收人签字，视为送达。"

# Font files, first one present wins. Noto Sans CJK is CFF-flavoured: Pillow uses it, reportlab refuses it
# (TTFError, "postscript outlines are not supported") and falls through to a TrueType-outline CJK font, then to
# the non-embedded CID font STSong-Light. Droid Sans Fallback has no Latin glyphs, hence a Latin font for
# everything below the CJK blocks.
_CJK_REGULAR = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # face 2 = Simplified Chinese
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
_LATIN_REGULAR = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", 0),
)
_FONT_FILES = {
    # (latin, bold): candidates
    (False, False): _CJK_REGULAR,
    (False, True): (("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2), *_CJK_REGULAR),
    (True, False): _LATIN_REGULAR + _CJK_REGULAR,
    (True, True): (
        ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0),
        ("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", 0),
        *_LATIN_REGULAR,
        *_CJK_REGULAR,
    ),
}


# --------------------------------------------------------------------------------------------------- label data


@dataclass
class LabelData:
    """Everything printed on one e-waybill. ``sender``/``receiver``: name, phone, province, city, district,
    address (the detail below the district)."""

    waybill: str
    express_code: str = ""
    express_name: str = ""
    mark_destination: str = ""  # 大头笔
    sorting_code: str = ""  # 三段码
    package_name: str = ""  # 集包地
    sender: dict = field(default_factory=dict)
    receiver: dict = field(default_factory=dict)
    goods_summary: str = ""
    remark: str = ""
    order_ref: str = ""
    qr_payload: str | None = None
    sub_waybill_index: int | None = None
    sub_waybill_count: int | None = None
    printed_at: datetime | None = None
    cod_amount: float | None = None
    insured_value: float | None = None

    def __post_init__(self):
        if not (self.waybill and self.waybill.isascii() and self.waybill.isprintable()):
            raise ValueError(f"waybill number {self.waybill!r} cannot be encoded in Code 128")
        if self.qr_payload is None:
            self.qr_payload = self.waybill


def mask_receiver(label_data):
    """Privacy waybill (隐私面单) per GB/T 41833-2022: hide at least one character of the name, at least six
    digits of the phone, and the unit and room of the address. The sender, a shop, is printed as given."""
    return replace(label_data, receiver=_mask_party(label_data.receiver))


def _mask_party(party):
    return {
        **party,
        "name": _mask_name(party.get("name") or ""),
        "phone": _mask_phone(party.get("phone") or ""),
        "address": _mask_address_detail(party.get("address") or ""),
    }


def _mask_name(name):
    if len(name) < 2:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def _mask_phone(phone):
    """138 1234 8000 -> 1******8000: six digits hidden (the standard's minimum; the common 138****8000 hides
    only four), the last four kept because couriers and customers confirm by "尾号"."""
    if "转" in phone:  # platform virtual number with extension (1xx-xxxx-xxxx 转 1234): already private
        return phone
    digit_positions = [i for i, char in enumerate(phone) if char.isdigit()]
    count = len(digit_positions)
    keep_tail = min(4, max(count - 6, 0))
    keep_head = min(3, max(count - 6 - keep_tail, 0))
    hidden = set(digit_positions[keep_head : count - keep_tail])
    return "".join("*" if i in hidden else char for i, char in enumerate(phone))


_STREET = re.compile(r".*?(?:街道|大道|大街|路|街|巷|镇|乡|村)")


def _mask_address_detail(detail):
    """Keep the street (科技园路), hide house number, building, unit and room."""
    if not detail:
        return detail
    street = _STREET.match(detail)
    return (street.group(0) if street else "") + "**"


# ------------------------------------------------------------------------------------------------------ layouts


@dataclass(frozen=True)
class Zone:
    """A box on the label, mm from the top-left corner. Text zones: the largest type size (em, mm) and how many
    lines may wrap; barcode zones: ``font_mm`` sizes the number below the bars, ``module_mm`` caps the bar
    module."""

    x: float
    y: float
    w: float
    h: float
    font_mm: float = 0.0
    bold: bool = False
    max_lines: int = 1
    align: str = "left"
    module_mm: float = 0.5


@dataclass(frozen=True)
class Layout:
    name: str
    width: float
    height: float
    zones: dict
    rules: tuple = ()  # filled rectangles (x, y, w, h): separators
    tags: tuple = ()  # (character, x, y, side): black square with a white character, e.g. 收 寄 集
    captions: tuple = ()  # (text, Zone): fixed text
    cut_at: float | None = None  # two-part forms: dashed cut line between waybill and stub


def _hline(y, x0=2.0, x1=98.0):
    return (x0, y - RULE_MM / 2, x1 - x0, RULE_MM)


def _vline(x, y0, y1):
    return (x - RULE_MM / 2, y0, RULE_MM, y1 - y0)


def _header_zones(width):
    """Carrier name left; sub-waybill, COD/insurance marks and print time stacked right."""
    half = (width - 4) / 2
    if width < 90:
        return {
            "carrier": Zone(2, 1, half, 8, font_mm=5.5, bold=True),
            "sub_waybill": Zone(2 + half, 0.6, half, 3.2, font_mm=3.0, bold=True, align="right"),
            "marks": Zone(2 + half, 3.8, half, 3.0, font_mm=2.6, bold=True, align="right"),
            "printed_at": Zone(2 + half, 6.8, half, 3.0, font_mm=2.5, align="right"),
        }
    return {
        "carrier": Zone(2, 1, half, 10, font_mm=6.5, bold=True),
        "sub_waybill": Zone(2 + half, 0.8, half, 4, font_mm=3.6, bold=True, align="right"),
        "marks": Zone(2 + half, 4.8, half, 3.6, font_mm=3.2, bold=True, align="right"),
        "printed_at": Zone(2 + half, 8.4, half, 3.4, font_mm=2.8, align="right"),
    }


def _routing_zones_100():
    """大头笔 across the top, then 三段码 and 集包地 side by side."""
    return {
        "mark_destination": Zone(2, 12.5, 96, 13.5, font_mm=11, bold=True, align="center"),
        "sorting_code": Zone(2, 27, 60, 7.5, font_mm=6.5, bold=True),
        "package": Zone(71, 27, 27, 7.5, font_mm=4.2, bold=True),
    }


_ROUTING_RULES_100 = (_hline(12), _hline(26.5), _hline(35), _vline(62.5, 26.5, 35))
_PACKAGE_TAG_100 = ("集", 63.5, 27.8, 6)

LAYOUTS = {
    # one-part 一联单 of the 通达系/J&T platform templates: routing on top, barcode, parties, custom area.
    # (The platform template's second, vertical barcode in a right-hand column is left out.)
    "76x130": Layout(
        name="76x130",
        width=76,
        height=130,
        zones={
            **_header_zones(76),
            "mark_destination": Zone(2, 10.6, 72, 11, font_mm=9.5, bold=True, align="center"),
            "sorting_code": Zone(2, 22.5, 72, 7, font_mm=6, bold=True, align="center"),
            "package": Zone(8.5, 30.6, 65.5, 5.4, font_mm=3.8, bold=True),
            "barcode": Zone(2, 37, 72, 17, font_mm=3.4, bold=True, module_mm=0.375),
            "receiver_contact": Zone(8.5, 55, 65.5, 5, font_mm=3.9, bold=True),
            "receiver_address": Zone(8.5, 60, 65.5, 8, font_mm=3.2, max_lines=2),
            "sender_contact": Zone(8.5, 69, 65.5, 4, font_mm=3.0, bold=True),
            "sender_address": Zone(8.5, 73.2, 65.5, 4, font_mm=2.8),
            "goods": Zone(2, 79, 50, 14.5, font_mm=4.2, bold=True, max_lines=3),
            "remark": Zone(2, 94.5, 50, 17, font_mm=3.0, max_lines=4),
            "qr": Zone(54.5, 79, 19.5, 19.5),
            "order_ref": Zone(2, 113.4, 72, 4.4, font_mm=3.0),
        },
        rules=(
            _hline(10, 2, 74),
            _hline(22, 2, 74),
            _hline(30, 2, 74),
            _hline(36.5, 2, 74),
            _hline(54.5, 2, 74),
            _hline(68.5, 2, 74),
            _hline(78, 2, 74),
            _vline(53.5, 78, 112.5),
            _hline(112.5, 2, 74),
        ),
        tags=(("集", 2, 30.9, 4.8), ("收", 2, 55.6, 5.5), ("寄", 2, 69.4, 4.5)),
        captions=(
            ("已验视", Zone(54.5, 99.5, 19.5, 4.5, font_mm=3.2, bold=True, align="center")),
            (TERMS, Zone(2, 118.4, 72, 10, font_mm=2.4, max_lines=3)),
        ),
    ),
    # one-part, SF "丰密" style: routing, barcode, receiver with the QR code beside it, sender, contents,
    # a large remarks area.
    "100x150": Layout(
        name="100x150",
        width=100,
        height=150,
        zones={
            **_header_zones(100),
            **_routing_zones_100(),
            "barcode": Zone(2, 36, 96, 20, font_mm=3.8, bold=True),
            "receiver_contact": Zone(10, 57.2, 64, 5.5, font_mm=4.6, bold=True),
            "receiver_address": Zone(10, 63, 64, 15, font_mm=3.8, max_lines=3),
            "qr": Zone(76, 57.5, 22, 22),
            "sender_contact": Zone(10, 81.2, 88, 4.5, font_mm=3.6, bold=True),
            "sender_address": Zone(10, 86, 88, 7, font_mm=3.0, max_lines=2),
            "goods": Zone(2, 94.2, 96, 9.5, font_mm=3.8, bold=True, max_lines=2),
            "remark": Zone(2, 105.5, 96, 27, font_mm=3.8, max_lines=5),
            "order_ref": Zone(2, 135, 64, 5, font_mm=3.4),
        },
        rules=(
            *_ROUTING_RULES_100,
            _hline(56.5),
            _hline(80.5),
            _hline(93.5),
            _hline(104.5),
            _hline(134),
        ),
        tags=(_PACKAGE_TAG_100, ("收", 2, 58, 6.5), ("寄", 2, 82, 6)),
        captions=(
            ("已验视", Zone(66, 135, 32, 5, font_mm=3.4, bold=True, align="right")),
            ("签收人:", Zone(2, 141.5, 48, 5, font_mm=3.4)),
        ),
    ),
    # two-part 二联单 (Cainiao 100×180): waybill part 0-110 mm with the signature box, cut, stub with the
    # barcode again and the merchant's custom area.
    "100x180": Layout(
        name="100x180",
        width=100,
        height=180,
        zones={
            **_header_zones(100),
            **_routing_zones_100(),
            "receiver_contact": Zone(10, 35.7, 88, 5.5, font_mm=4.6, bold=True),
            "receiver_address": Zone(10, 41.5, 88, 10.5, font_mm=3.8, max_lines=2),
            "sender_contact": Zone(10, 53.2, 88, 4.5, font_mm=3.6, bold=True),
            "sender_address": Zone(10, 58, 88, 7, font_mm=3.0, max_lines=2),
            "barcode": Zone(2, 66.5, 96, 21, font_mm=3.8, bold=True),
            "qr": Zone(77.5, 89, 20.5, 20.5),
            "stub_barcode": Zone(2, 111, 96, 12, font_mm=3.0, bold=True, module_mm=0.375),
            "stub_receiver": Zone(2, 123.7, 96, 4.3, font_mm=3.2),
            "stub_sender": Zone(2, 128.2, 96, 4.3, font_mm=3.2),
            "goods": Zone(2, 134, 96, 14, font_mm=4.4, bold=True, max_lines=2),
            "order_ref": Zone(2, 149, 96, 5, font_mm=3.6),
            "remark": Zone(2, 155, 96, 23, font_mm=3.6, max_lines=5),
        },
        rules=(
            *_ROUTING_RULES_100,
            _hline(52.5),
            _hline(65.5),
            _hline(88.5),
            _vline(75.5, 88.5, 110),
            _hline(133),
        ),
        tags=(_PACKAGE_TAG_100, ("收", 2, 36.5, 6.5), ("寄", 2, 53.5, 6)),
        captions=(
            ("签收人:", Zone(2, 90, 36, 5, font_mm=3.4)),
            ("签收时间:", Zone(38, 90, 36, 5, font_mm=3.4)),
            (TERMS, Zone(2, 99, 72, 9, font_mm=2.6, max_lines=3)),
        ),
        cut_at=110,
    ),
}


def _layout(name):
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown label layout {name!r}, expected one of {sorted(LAYOUTS)}") from None


def _prepared(label, masked):
    return mask_receiver(label) if masked else label


# -------------------------------------------------------------------------------------- what goes in which zone


def _zone_texts(label):
    receiver, sender = label.receiver, label.sender
    return {
        "carrier": label.express_name or label.express_code,
        "sub_waybill": _sub_waybill_text(label),
        "marks": _marks_text(label),
        "printed_at": f"打印时间 {label.printed_at:%Y-%m-%d %H:%M}" if label.printed_at else "",
        "mark_destination": label.mark_destination,
        "sorting_code": label.sorting_code,
        "package": label.package_name,
        "receiver_contact": _contact(receiver),
        "receiver_address": _full_address(receiver),
        "sender_contact": _contact(sender),
        "sender_address": _full_address(sender),
        "stub_receiver": f"收: {_contact(receiver)} {_full_address(receiver)}",
        "stub_sender": f"寄: {_contact(sender)} {_full_address(sender)}",
        "goods": f"内件: {label.goods_summary}" if label.goods_summary else "",
        "remark": f"备注: {label.remark}" if label.remark else "",
        "order_ref": f"订单号: {label.order_ref}" if label.order_ref else "",
    }


def _sub_waybill_text(label):
    if not label.sub_waybill_count:
        return ""
    return f"子母件 {label.sub_waybill_index}/{label.sub_waybill_count}"


def _marks_text(label):
    marks = []
    if label.cod_amount:
        marks.append(f"代收货款 ¥{label.cod_amount:.2f}")
    if label.insured_value:
        marks.append(f"保价 ¥{label.insured_value:.2f}")
    return "  ".join(marks)


def _contact(party):
    return " ".join(filter(None, (party.get("name"), party.get("phone"))))


def _full_address(party):
    province, city = party.get("province") or "", party.get("city") or ""
    if city == province:  # 直辖市: 上海市上海市 -> 上海市
        city = ""
    return "".join((province, city, party.get("district") or "", party.get("address") or ""))


# ------------------------------------------------------------------------- painting, shared by PDF and raster
#
# A painter works in mm from the top-left corner and offers: dots_per_mm, em_advance(char, bold),
# text(x, baseline, text, size, bold, white), box(x, y, w, h), code128_modules(value),
# draw_code128(x, top, bar_height, value, module_mm) and draw_matrix(x, y, module_mm, matrix).


def _paint_frame(painter, layout):
    """The fixed part of a layout: separators, cut line, tags, captions."""
    for rect in layout.rules:
        painter.box(*rect)
    if layout.cut_at is not None:
        for x in range(2, int(layout.width) - 2, 4):
            painter.box(x, layout.cut_at - RULE_MM / 2, 2, RULE_MM)
    for char, x, y, side in layout.tags:
        painter.box(x, y, side, side)
        _paint_text(painter, Zone(x, y, side, side, font_mm=side * 0.8, bold=True, align="center"), char, white=True)
    for text, zone in layout.captions:
        _paint_text(painter, zone, text)


def _paint_fields(painter, layout, label):
    for name, text in _zone_texts(label).items():
        zone = layout.zones.get(name)
        if zone and text:
            _paint_text(painter, zone, text)
    for name in ("barcode", "stub_barcode"):
        if name in layout.zones:
            _paint_barcode(painter, layout.zones[name], label.waybill)
    _paint_qr(painter, layout.zones["qr"], label.qr_payload)


def _paint_text(painter, zone, text, white=False):
    size, lines = _fit_text(painter, text, zone)
    pitch = size * LINE_PITCH
    if zone.max_lines == 1:
        top = zone.y + (zone.h - size) / 2
    else:
        top = zone.y + (pitch - size) / 2
    for number, (line, width) in enumerate(lines):
        if zone.align == "center":
            x = zone.x + (zone.w - width) / 2
        elif zone.align == "right":
            x = zone.x + zone.w - width
        else:
            x = zone.x
        painter.text(x, top + ASCENT * size + number * pitch, line, size, zone.bold, white)


def _fit_text(painter, text, zone):
    """Largest size (down to MIN_SHRINK of the zone's, MIN_FONT_MM at least) at which the text wraps into the
    zone's lines; past that, the last line is cut with an ellipsis. Returns (size, [(line, width in mm)])."""
    advances = [painter.em_advance(char, zone.bold) for char in text]
    size = zone.font_mm
    smallest = max(size * MIN_SHRINK, min(size, MIN_FONT_MM))
    lines = _wrap(advances, zone.w / size)
    while len(lines) > zone.max_lines and size > smallest:
        size = max(size * 0.9, smallest)
        lines = _wrap(advances, zone.w / size)
    fitted = [(text[start:end], width) for start, end, width in lines[: zone.max_lines]]
    if len(lines) > zone.max_lines:
        last = lines[zone.max_lines - 1]
        fitted[-1] = _cut_with_ellipsis(painter, text, advances, last, zone.w / size, zone.bold)
    return size, [(line, width * size) for line, width in fitted]


def _wrap(advances, width_em):
    """Greedy wrap at any character (Chinese has no spaces). Returns [(start, end, width in em)]."""
    lines, start, line_width = [], 0, 0.0
    for index, advance in enumerate(advances):
        if index > start and line_width + advance > width_em:
            lines.append((start, index, line_width))
            start, line_width = index, 0.0
        line_width += advance
    lines.append((start, len(advances), line_width))
    return lines


def _cut_with_ellipsis(painter, text, advances, line, width_em, bold):
    start, end, width = line
    ellipsis = painter.em_advance(ELLIPSIS, bold)
    while end > start and width + ellipsis > width_em:
        end -= 1
        width -= advances[end]
    return text[start:end] + ELLIPSIS, width + ellipsis


def _paint_barcode(painter, zone, value):
    """Code 128 centred in its zone with 10-module quiet zones; the module is the widest whole number of dots
    that fits, capped by the zone (0.5 mm = 4 dots at 203 dpi for 88 mm platform barcode areas). A number too
    long for even MIN_MODULE_DOTS spills into the margins rather than becoming unreadable."""
    modules = painter.code128_modules(value) + 2 * QUIET_MODULES
    dots_per_mm = painter.dots_per_mm
    module_dots = max(
        MIN_MODULE_DOTS, min(math.floor(zone.module_mm * dots_per_mm), math.floor(zone.w * dots_per_mm / modules))
    )
    module_mm = module_dots / dots_per_mm
    left = zone.x + (zone.w - modules * module_mm) / 2 + QUIET_MODULES * module_mm
    bar_height = zone.h - zone.font_mm * LINE_PITCH - HRI_GAP_MM
    painter.draw_code128(left, zone.y, bar_height, value, module_mm)
    number_top = zone.y + bar_height + HRI_GAP_MM
    number_zone = Zone(zone.x, number_top, zone.w, zone.y + zone.h - number_top, zone.font_mm, True, align="center")
    _paint_text(painter, number_zone, value)


def _paint_qr(painter, zone, payload):
    matrix = _qr_matrix(payload)
    side_modules = len(matrix) + 2 * QR_QUIET_MODULES
    module_dots = max(1, math.floor(min(zone.w, zone.h) * painter.dots_per_mm / side_modules))
    module_mm = module_dots / painter.dots_per_mm
    side = len(matrix) * module_mm
    painter.draw_matrix(zone.x + (zone.w - side) / 2, zone.y + (zone.h - side) / 2, module_mm, matrix)


def _qr_matrix(payload):
    """QR model 2, error correction M, without border (the painter centres it in a zone sized for one)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()


def _dark_runs(row):
    """(start, end) of each run of dark modules in a row of booleans."""
    runs, start = [], None
    for index, dark in enumerate(row):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(row)))
    return runs


def _is_latin(char):
    """Everything before the CJK blocks (U+2E80) is set in the Latin font."""
    return char < "\u2e80"


def _script_runs(text):
    """Split text into (latin, substring) runs."""
    runs = []
    for char in text:
        latin = _is_latin(char)
        if runs and runs[-1][0] == latin:
            runs[-1][1].append(char)
        else:
            runs.append((latin, [char]))
    return [(latin, "".join(chars)) for latin, chars in runs]


# ------------------------------------------------------------------------------------------------------- PDF


def _register_pdf_font(name, candidates):
    for path, index in candidates:
        if not os.path.exists(path):
            continue
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except TTFError:  # CFF outlines (Noto Sans CJK), not supported by reportlab
            continue
        return name
    return None


@lru_cache(maxsize=None)
def _pdf_font(latin):
    """Embedded TrueType font for the script; otherwise Helvetica (Latin) or STSong-Light, a CID font every PDF
    viewer knows but that is not embedded (risky on print servers)."""
    if latin:
        return _register_pdf_font("LabelLatin", _LATIN_REGULAR) or "Helvetica"
    if _register_pdf_font("LabelCJK", _CJK_REGULAR):
        return "LabelCJK"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


@lru_cache(maxsize=20000)
def _pdf_em_advance(char):
    return pdfmetrics.stringWidth(char, _pdf_font(_is_latin(char)), 1)


class _PdfPainter:
    dots_per_mm = PDF_DOTS_PER_MM

    def __init__(self, canvas, layout):
        self.canvas = canvas
        self.page_height = layout.height

    def _y(self, y):
        """PDF y (points from the bottom) of a label y (mm from the top)."""
        return (self.page_height - y) * mm

    def em_advance(self, char, bold):
        return _pdf_em_advance(char)

    def text(self, x, baseline, text, size, bold, white=False):
        canvas = self.canvas
        text_object = canvas.beginText(x * mm, self._y(baseline))
        if bold:
            text_object.setTextRenderMode(2)
        for latin, run in _script_runs(text):
            text_object.setFont(_pdf_font(latin), size * mm)
            text_object.textOut(run)
        if not (bold or white):
            canvas.drawText(text_object)
            return
        canvas.saveState()  # the text render mode outlives the text object: restore it with the colours
        canvas.setLineWidth(size * mm * FAUX_BOLD_STROKE)
        if white:
            canvas.setFillGray(1)
            canvas.setStrokeGray(1)
        canvas.drawText(text_object)
        canvas.restoreState()

    def box(self, x, y, w, h):
        self.canvas.rect(x * mm, self._y(y + h), w * mm, h * mm, stroke=0, fill=1)

    def code128_modules(self, value):
        return round(Code128(value, barWidth=1, quiet=0).width)

    def draw_code128(self, x, top, bar_height, value, module_mm):
        symbol = Code128(value, barWidth=module_mm * mm, barHeight=bar_height * mm, quiet=0, humanReadable=0)
        symbol.drawOn(self.canvas, x * mm, self._y(top + bar_height))

    def draw_matrix(self, x, y, module_mm, matrix):
        """One path for the whole QR code: far faster than reportlab's QR widget."""
        module = module_mm * mm
        path = self.canvas.beginPath()
        for row_index, row in enumerate(matrix):
            row_bottom = self._y(y) - (row_index + 1) * module
            for start, end in _dark_runs(row):
                path.rect(x * mm + start * module, row_bottom, (end - start) * module, module)
        self.canvas.drawPath(path, stroke=0, fill=1)


def render_pdf(labels, layout="100x150", masked=False):
    """One PDF page per label, page size = label size."""
    if not labels:
        raise ValueError("no labels to render")
    spec = _layout(layout)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(spec.width * mm, spec.height * mm), invariant=1)
    painter = _PdfPainter(canvas, spec)
    canvas.beginForm("frame")
    _paint_frame(painter, spec)
    canvas.endForm()
    for label in labels:
        canvas.doForm("frame")
        _paint_fields(painter, spec, _prepared(label, masked))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------- raster

_PIL_REFERENCE_PX = 200  # advances are measured once at this size and scaled


def _dots_per_mm(dpi):
    """8 at 203 dpi, 12 at 300 dpi: printers (and ZPL) count whole dots per millimetre."""
    return round(dpi / 25.4)


@lru_cache(maxsize=None)
def _pil_font_file(latin, bold):
    for path, index in _FONT_FILES[latin, bold]:
        if os.path.exists(path):
            return path, index
    raise RuntimeError("no CJK font found for label rasters: install fonts-noto-cjk (or fonts-wqy-zenhei)")


@lru_cache(maxsize=256)
def _pil_font(px, latin, bold):
    path, index = _pil_font_file(latin, bold)
    return ImageFont.truetype(path, px, index=index)


@lru_cache(maxsize=20000)
def _pil_em_advance(char, bold):
    return _pil_font(_PIL_REFERENCE_PX, _is_latin(char), bold).getlength(char) / _PIL_REFERENCE_PX


@lru_cache(maxsize=20000)
def _glyph(char, px, bold):
    """(mask, dx, dy) of one character, offsets from the pen position on the baseline; None for blanks.
    Pasting cached glyphs is several times faster than ImageDraw.text, which rasterises every call."""
    font = _pil_font(px, _is_latin(char), bold)
    left, top, right, bottom = font.getbbox(char, anchor="ls")
    if right <= left or bottom <= top:
        return None
    mask = Image.new("1", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), char, font=font, fill=1, anchor="ls")
    return mask, left, top


class _RasterPainter:
    def __init__(self, image, dots_per_mm):
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.dots_per_mm = dots_per_mm

    def _dots(self, value):
        return round(value * self.dots_per_mm)

    def em_advance(self, char, bold):
        return _pil_em_advance(char, bold)

    def text(self, x, baseline, text, size, bold, white=False):
        px = max(1, self._dots(size))
        ink = 1 if white else 0
        y = self._dots(baseline)
        pen = x
        for char in text:
            glyph = _glyph(char, px, bold)
            if glyph:
                mask, dx, dy = glyph
                self.image.paste(ink, (self._dots(pen) + dx, y + dy), mask)
            pen += _pil_em_advance(char, bold) * size

    def box(self, x, y, w, h):
        x0, y0 = self._dots(x), self._dots(y)
        x1, y1 = max(x0 + 1, self._dots(x + w)), max(y0 + 1, self._dots(y + h))
        self.draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)

    def code128_modules(self, value):
        return len(_code128_pattern(value))

    def draw_code128(self, x, top, bar_height, value, module_mm):
        module = round(module_mm * self.dots_per_mm)
        x0, y0, y1 = self._dots(x), self._dots(top), self._dots(top + bar_height)
        for bar in re.finditer("1+", _code128_pattern(value)):
            self.draw.rectangle((x0 + bar.start() * module, y0, x0 + bar.end() * module - 1, y1 - 1), fill=0)

    def draw_matrix(self, x, y, module_mm, matrix):
        module = round(module_mm * self.dots_per_mm)
        x0, y0 = self._dots(x), self._dots(y)
        for row_index, row in enumerate(matrix):
            top = y0 + row_index * module
            for start, end in _dark_runs(row):
                self.draw.rectangle((x0 + start * module, top, x0 + end * module - 1, top + module - 1), fill=0)


def _code128_pattern(value):
    """Modules of the symbol ('1' = bar), without quiet zones, from python-barcode's encoder."""
    return barcode.get("code128", value).build()[0]


def _raster_size(layout, dpi):
    dots_per_mm = _dots_per_mm(dpi)
    width = round(layout.width * dots_per_mm)
    return -(-width // 8) * 8, round(layout.height * dots_per_mm)  # printer rasters pack 8 dots a byte


@lru_cache(maxsize=16)
def _frame_image(layout_name, dpi):
    layout = LAYOUTS[layout_name]
    image = Image.new("1", _raster_size(layout, dpi), 1)
    _paint_frame(_RasterPainter(image, _dots_per_mm(dpi)), layout)
    return image


def render_image(label, layout="100x150", dpi=203, masked=False):
    """The label as a black-and-white Pillow image (mode "1") at the printer's resolution."""
    spec = _layout(layout)
    image = _frame_image(spec.name, dpi).copy()
    _paint_fields(_RasterPainter(image, _dots_per_mm(dpi)), spec, _prepared(label, masked))
    return image


def _images(labels, layout, dpi, masked):
    """Rasters one at a time: a batch job holds its bytes, never a thousand images."""
    if not labels:
        raise ValueError("no labels to render")
    return (render_image(label, layout, dpi, masked) for label in labels)


# ------------------------------------------------------------------------------------------------------ TSPL


def _tspl_setup(layout):
    return (
        f"SIZE {layout.width:g} mm,{layout.height:g} mm\r\n"
        f"GAP {TSPL_GAP_MM} mm,0 mm\r\n"
        f"DIRECTION {TSPL_DIRECTION}\r\n"
        "REFERENCE 0,0\r\n"
    ).encode("ascii")


def _tspl_page(image):
    """UNCONFIRMED polarity (reference §6): in TSPL BITMAP data a 1 bit leaves the dot white, as in Pillow's
    mode "1", so the bytes go out as they are."""
    header = f"CLS\r\nBITMAP 0,0,{image.width // 8},{image.height},0,".encode("ascii")
    return header + image.tobytes() + b"\r\nPRINT 1,1\r\n"


def to_tspl(label, layout="100x150", dpi=203, masked=False):
    return _tspl_setup(_layout(layout)) + _tspl_page(render_image(label, layout, dpi, masked))


# ------------------------------------------------------------------------------------------------------- ZPL

_INVERT = bytes(255 - value for value in range(256))
_ZPL_RUN = re.compile(r"([0-9A-F])\1+")


@lru_cache(maxsize=1024)
def _zpl_count(count):
    """ZPL's repeat-count letters: G..Y = 1..19, g..z = 20..400 in steps of 20, summed."""
    letters = "z" * (count // 400)
    count %= 400
    if count >= 20:
        letters += chr(ord("g") + count // 20 - 1)
    if count % 20:
        letters += chr(ord("G") + count % 20 - 1)
    return letters


def _zpl_compress_row(hex_row):
    """ZPL ASCII compression of one row: runs become count+digit, trailing zeros a comma."""
    body = hex_row.rstrip("0")
    encoded = _ZPL_RUN.sub(lambda run: _zpl_count(len(run.group(0))) + run.group(1), body)
    return encoded + ("," if len(body) < len(hex_row) else "")


def _zpl_graphic_data(image):
    """^GFA data, 1 bit = black; a row equal to the previous one is a colon."""
    row_bytes = image.width // 8
    raw = image.tobytes().translate(_INVERT)
    rows, previous = [], None
    for start in range(0, len(raw), row_bytes):
        row = raw[start : start + row_bytes]
        rows.append(":" if row == previous else _zpl_compress_row(row.hex().upper()))
        previous = row
    return "".join(rows)


def _zpl_label(image):
    row_bytes = image.width // 8
    total = row_bytes * image.height
    return (
        f"^XA\n^PW{image.width}\n^LL{image.height}\n^LH0,0\n"
        f"^FO0,0^GFA,{total},{total},{row_bytes},{_zpl_graphic_data(image)}^FS\n"
        "^PQ1\n^XZ\n"
    ).encode("ascii")


def to_zpl(label, layout="100x150", dpi=203, masked=False):
    return _zpl_label(render_image(label, layout, dpi, masked))


# ---------------------------------------------------------------------------------------------------- ESC/POS


def _escpos_profile(width_dots):
    """python-escpos 'default' profile with the head width set to the label's, so image() neither refuses the
    raster nor prints its "media.width.pixel field ... not set" notice. Profile data is a class-level dict
    shared by every instance: the copy keeps the change local."""
    profile = Profile(features=dict(Profile.profile_data["features"]))
    profile.profile_data = copy.deepcopy(Profile.profile_data)
    profile.profile_data["media"]["width"]["pixels"] = width_dots
    return profile


ESCPOS_SLICE_ROWS = 960


def _escpos_job(images, width_dots):
    """ESC @, then per label the raster (GS v 0, in slices of 960 rows) and a feed-and-cut.

    python-escpos frames the job (init, cut); the raster bytes are packed here straight from the 1-bit image:
    its own image() converts pixel by pixel and costs ten times the rendering itself.
    """
    printer = Dummy(profile=_escpos_profile(width_dots))
    printer.hw("INIT")
    for image in images:
        for top in range(0, image.height, ESCPOS_SLICE_ROWS):
            printer._raw(_gs_v0(image.crop((0, top, image.width, min(top + ESCPOS_SLICE_ROWS, image.height)))))
        printer.cut()
    return printer.output


def _gs_v0(image):
    """GS v 0 raster of a mode "1" image (Pillow 1 = white, ESC/POS 1 = black)."""
    width_bytes = (image.width + 7) // 8
    header = b"\x1dv0\x00" + bytes((width_bytes % 256, width_bytes // 256, image.height % 256, image.height // 256))
    return header + image.tobytes().translate(_INVERT)


def to_escpos(label, layout="100x150", dpi=203, masked=False):
    image = render_image(label, layout, dpi, masked)
    return _escpos_job([image], image.width)


# ------------------------------------------------------------------------------------------------------ batch


def render_batch(labels, fmt, layout="100x150", dpi=203, masked=False):
    """All labels in one job: a PDF with one page each (dpi does not apply), or one printer job. ``labels``
    may mix LabelData and TemplateLabel (the carrier's own layout); ``masked`` applies to our layout only."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown label format {fmt!r}, expected one of {FORMATS}")
    spec = _layout(layout)
    if not any(isinstance(label, TemplateLabel) for label in labels):
        if fmt == "pdf":
            return render_pdf(labels, layout, masked)
        return _raster_job(fmt, _images(labels, layout, dpi, masked), spec, dpi)
    template_pages = template_pdf([label.html for label in labels if isinstance(label, TemplateLabel)], spec)
    if fmt == "pdf":
        return _mixed_pdf(labels, template_pages, layout, masked)
    template_images = iter(template_rasters(template_pages, spec, dpi))
    images = (
        next(template_images) if isinstance(label, TemplateLabel) else render_image(label, layout, dpi, masked)
        for label in labels
    )
    return _raster_job(fmt, images, spec, dpi)


def _raster_job(fmt, images, layout, dpi):
    if fmt == "tspl":
        return _tspl_setup(layout) + b"".join(map(_tspl_page, images))
    if fmt == "zpl":
        return b"".join(map(_zpl_label, images))
    width_dots, _ = _raster_size(layout, dpi)
    return _escpos_job(images, width_dots)


def join_jobs(fmt, parts):
    """One job of several rendered separately (a batch prepared in chunks), their labels in the given order:
    the printer setup of TSPL and the initialisation of ESC/POS are sent once."""
    if not parts:
        raise ValueError("no job to join")
    first, rest = parts[0], parts[1:]
    if fmt == "pdf":
        return _merge_pdf_pages([page for part in parts for page in PdfReader(io.BytesIO(part)).pages])
    if fmt == "tspl":
        return first + b"".join(part[part.index(b"CLS\r\n") :] for part in rest)
    if fmt == "escpos":
        return first + b"".join(part.removeprefix(b"\x1b@") for part in rest)
    if fmt == "zpl":
        return b"".join(parts)
    raise ValueError(f"unknown label format {fmt!r}, expected one of {FORMATS}")


def _merge_pdf_pages(pages):
    writer = PdfWriter()
    for page in pages:
        writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _mixed_pdf(labels, template_pages, layout, masked):
    """Our pages and the carrier's in label order: each run of our labels is rendered as one PDF."""
    templates = iter(PdfReader(io.BytesIO(template_pages)).pages)
    pages, run = [], []

    def flush():
        if run:
            pages.extend(PdfReader(io.BytesIO(render_pdf(run, layout, masked))).pages)
            run.clear()

    for label in labels:
        if isinstance(label, TemplateLabel):
            flush()
            pages.append(next(templates))
        else:
            run.append(label)
    flush()
    return _merge_pdf_pages(pages)


# ---------------------------------------------------------------------------------- carrier print templates
#
# A carrier API can return the label laid out by the carrier as an HTML page (KDNiao's PrintTemplate).
# wkhtmltopdf prints it on a page of the label's size; poppler's pdftoppm rasterises that page at the
# printer's resolution for TSPL, ZPL and ESC/POS, which then carry it like our own rasters.

TEMPLATE_TIMEOUT = 120  # seconds for one wkhtmltopdf or pdftoppm run
TEMPLATE_WORKERS = min(4, os.cpu_count() or 1)  # wkhtmltopdf runs at once when each template needs its own
_WKHTMLTOPDF_OPTIONS = (
    "--quiet",
    "--encoding", "utf-8",
    "-T", "0", "-B", "0", "-L", "0", "-R", "0",
    "--disable-local-file-access",  # the page comes from outside: it may not read the server's files
    "--load-error-handling", "ignore",
    "--load-media-error-handling", "ignore",
)
_CALIBRATION_MM = 60
_CALIBRATION_DOTS_PER_MM = 20


class TemplateRenderError(RuntimeError):
    """A carrier's print template could not be printed (tool missing or failing, empty template)."""


@dataclass(frozen=True)
class TemplateLabel:
    """A label printed from the carrier's own print template, a whole HTML page."""

    html: str
    waybill: str = ""


def template_pdf(htmls, layout="100x150"):
    """One page per template, the page the size of the label. The template's CSS millimetres are real
    millimetres; a template wider than the label is shrunk to its width (wkhtmltopdf's smart shrinking), one
    longer than the label keeps its first page."""
    spec = _layout(layout) if isinstance(layout, str) else layout
    if not htmls:
        raise ValueError("no template to render")
    if not all(html_text.strip() for html_text in htmls):
        raise TemplateRenderError("a print template is empty")
    zoom = _wkhtmltopdf_zoom(spec.width, spec.height)
    with tempfile.TemporaryDirectory(prefix="label-template-") as folder:
        folder = Path(folder)
        style = folder / "zoom.css"
        style.write_text(f"html {{ zoom: {zoom:.4f} !important; }}\n", encoding="utf-8")
        sources = []
        for index, html_text in enumerate(htmls):
            sources.append(folder / f"template-{index:05d}.html")
            sources[-1].write_text(html_text, encoding="utf-8")
        return _merge_pdf_pages(_template_pages(sources, spec, style))


def _template_pages(sources, spec, style):
    """A wkhtmltopdf built on its patched Qt prints every template in one run; Debian's (unpatched) takes one
    document per run, so those runs go side by side."""
    options = ("--user-style-sheet", str(style))
    if len(sources) > 1 and _wkhtmltopdf_takes_many():
        try:
            pages = PdfReader(io.BytesIO(_wkhtmltopdf(sources, spec.width, spec.height, options))).pages
        except TemplateRenderError:
            pages = []  # one template broke the run: each on its own tells which
        if len(pages) == len(sources):
            return list(pages)
        # Or a template ran over its page: one run each, to know which pages are whose.
    with ThreadPoolExecutor(max_workers=TEMPLATE_WORKERS) as pool:
        pdfs = pool.map(lambda source: _wkhtmltopdf([source], spec.width, spec.height, options), sources)
        return [_first_page(pdf) for pdf in pdfs]


def template_rasters(pdf, layout, dpi=203):
    """Each page of ``pdf`` as a black-and-white image of the printer's raster size (mode "1")."""
    spec = _layout(layout) if isinstance(layout, str) else layout
    dots_per_mm = _dots_per_mm(dpi)
    width, height = round(spec.width * dots_per_mm), round(spec.height * dots_per_mm)
    canvas_size = _raster_size(spec, dpi)
    rasters = []
    for page in _pdf_rasters(pdf, width, height):
        canvas = Image.new("1", canvas_size, 1)
        canvas.paste(page.point(lambda value: 255 if value >= 128 else 0, mode="1"), (0, 0))
        rasters.append(canvas)
    return rasters


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise TemplateRenderError(f"{name} is not installed on the server")
    return path


def _run_tool(command):
    try:
        return subprocess.run(command, capture_output=True, timeout=TEMPLATE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise TemplateRenderError(f"{Path(command[0]).name} took longer than {TEMPLATE_TIMEOUT} s") from error


@lru_cache(maxsize=1)
def _wkhtmltopdf_takes_many():
    result = _run_tool([_tool("wkhtmltopdf"), "--version"])
    return b"patched qt" in result.stdout.lower()


def _wkhtmltopdf(sources, width_mm, height_mm, options=()):
    target = sources[0].with_suffix(".pdf")
    command = [
        _tool("wkhtmltopdf"), *_WKHTMLTOPDF_OPTIONS, *options,
        "--page-width", f"{width_mm:g}mm", "--page-height", f"{height_mm:g}mm",
        *map(str, sources), str(target),
    ]
    result = _run_tool(command)
    # It exits with 1 after a resource failed to load even when told to ignore it: the PDF tells.
    if not target.exists() or not target.stat().st_size:
        detail = result.stderr.decode(errors="replace").strip()[-300:]
        raise TemplateRenderError(f"wkhtmltopdf made no PDF (exit {result.returncode}): {detail}")
    return target.read_bytes()


def _pdf_rasters(pdf, width, height):
    """pdftoppm: every page as a greyscale image of exactly width x height pixels."""
    with tempfile.TemporaryDirectory(prefix="label-raster-") as folder:
        source = Path(folder) / "pages.pdf"
        source.write_bytes(pdf)
        command = [_tool("pdftoppm"), "-gray", "-scale-to-x", str(width), "-scale-to-y", str(height),
                   str(source), str(Path(folder) / "page")]
        result = _run_tool(command)
        files = sorted(Path(folder).glob("page-*.pgm"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
        if result.returncode or not files:
            raise TemplateRenderError(f"pdftoppm failed: {result.stderr.decode(errors='replace').strip()[-300:]}")
        images = []
        for path in files:
            with Image.open(path) as image:
                images.append(image.convert("L"))
        return images


@lru_cache(maxsize=8)
def _wkhtmltopdf_zoom(width_mm, height_mm):
    """The CSS zoom that makes a CSS millimetre a millimetre of the page. wkhtmltopdf built on an unpatched Qt
    (Debian's) draws everything at 0.768 of its size and ignores --zoom and --disable-smart-shrinking; other
    builds differ: a black square is printed and measured once per page size."""
    side = _CALIBRATION_MM
    with tempfile.TemporaryDirectory(prefix="label-calibration-") as folder:
        source = Path(folder) / "calibration.html"
        source.write_text(
            f'<!DOCTYPE html><html><body style="margin:0"><div style="width:{side}mm;height:{side}mm;'
            'background:#000"></div></body></html>',
            encoding="utf-8",
        )
        pdf = _wkhtmltopdf([source], width_mm, height_mm)
    dots = _CALIBRATION_DOTS_PER_MM
    page = _pdf_rasters(pdf, round(width_mm * dots), round(height_mm * dots))[0]
    box = page.point(lambda value: 255 if value < 128 else 0).getbbox()
    if not box:
        raise TemplateRenderError("wkhtmltopdf printed an empty calibration page")
    return side * dots / (box[2] - box[0])


def _first_page(pdf):
    pages = PdfReader(io.BytesIO(pdf)).pages
    if not pages:
        raise TemplateRenderError("wkhtmltopdf printed no page")
    return pages[0]


# ---------------------------------------------------------------------------------- decoders (job -> image)
#
# Independent parsers of the jobs above, for tests and for "what did the printer get" previews. They know
# the commands these encoders emit and raise ValueError on anything else that would change the picture.


def _page(pages, page, language):
    if not -len(pages) <= page < len(pages):
        raise IndexError(f"{language} job has {len(pages)} label(s), no label {page}")
    return pages[page]


def raster_from_tspl(data, page=0, dpi=203):
    """Label number ``page`` of a TSPL job; ``dpi`` converts SIZE (mm) into dots."""
    pages, canvas, size, position = [], None, None, 0
    while position < len(data):
        if data.startswith(b"BITMAP ", position):
            position = _tspl_bitmap(data, position, canvas)
            continue
        line_end = data.find(b"\r\n", position)
        line_end = len(data) if line_end < 0 else line_end
        command, _, arguments = data[position:line_end].decode("ascii").partition(" ")
        position = line_end + 2
        if command == "SIZE":
            size = _tspl_size(arguments, dpi)
        elif command == "CLS":
            if size is None:
                raise ValueError("TSPL CLS before SIZE")
            canvas = Image.new("1", size, 1)
        elif command == "PRINT":
            if canvas is None:
                raise ValueError("TSPL PRINT before CLS")
            pages.append(canvas.copy())
    return _page(pages, page, "TSPL")


def _tspl_size(arguments, dpi):
    width, height = (float(part.strip().removesuffix("mm")) for part in arguments.split(","))
    dots_per_mm = _dots_per_mm(dpi)
    return round(width * dots_per_mm), round(height * dots_per_mm)


def _tspl_bitmap(data, position, canvas):
    """Paste one BITMAP x,y,width_bytes,height,mode,<raw> into the canvas; returns the position after it."""
    fields_start = position + len(b"BITMAP ")
    fields_end = fields_start
    for _ in range(5):
        fields_end = data.index(b",", fields_end) + 1
    x, y, width_bytes, height, mode = (int(value) for value in data[fields_start : fields_end - 1].split(b","))
    if mode != 0:
        raise ValueError(f"TSPL BITMAP mode {mode} not supported (only 0, overwrite)")
    if canvas is None:
        raise ValueError("TSPL BITMAP before CLS")
    payload_end = fields_end + width_bytes * height
    canvas.paste(Image.frombytes("1", (width_bytes * 8, height), data[fields_end:payload_end]), (x, y))
    return payload_end + 2 if data.startswith(b"\r\n", payload_end) else payload_end


_ZPL_HEX = frozenset("0123456789ABCDEFabcdef")


def raster_from_zpl(data, page=0):
    """Label number ``page`` (^XA..^XZ) of a ZPL job; reads ^PW, ^LL, ^FO and ^GFA (ASCII hex, compressed or
    not)."""
    pages, canvas, width, length, origin = [], None, 0, 0, (0, 0)
    for command in data.decode("ascii").split("^")[1:]:
        code, arguments = command[:2].upper(), command[2:].strip()
        if code == "XA":
            canvas, width, length, origin = None, 0, 0, (0, 0)
        elif code == "PW":
            width = int(arguments)
        elif code == "LL":
            length = int(arguments)
        elif code == "FO":
            origin = tuple(int(value) for value in arguments.split(",")[:2])
        elif code == "GF":
            if canvas is None:
                canvas = Image.new("1", (width, length), 1)
            canvas.paste(_zpl_graphic(arguments), origin)
        elif code == "XZ":
            pages.append(canvas if canvas is not None else Image.new("1", (width, length), 1))
    return _page(pages, page, "ZPL")


def _zpl_graphic(arguments):
    kind, total, _, row_bytes, data = arguments.split(",", 4)
    if kind.upper() != "A":
        raise ValueError(f"ZPL ^GF format {kind!r} not supported (only A, ASCII hex)")
    total, row_bytes = int(total), int(row_bytes)
    rows = _zpl_rows(re.sub(r"\s", "", data), row_bytes * 2)
    raw = bytes.fromhex("".join(rows))[:total].translate(_INVERT)
    return Image.frombytes("1", (row_bytes * 8, total // row_bytes), raw)


def _zpl_rows(data, row_chars):
    """Expand ZPL ASCII compression into rows of hex digits."""
    rows, row, repeat = [], "", 0
    for char in data:
        if "G" <= char <= "Y":
            repeat += ord(char) - ord("G") + 1
        elif "g" <= char <= "z":
            repeat += (ord(char) - ord("g") + 1) * 20
        elif char in _ZPL_HEX:
            row += char * (repeat or 1)
            repeat = 0
        elif char in ",!":  # fill the rest of the row with 0 (white) or F (black)
            row = row.ljust(row_chars, "0" if char == "," else "F")
        elif char == ":":  # repeat the previous row
            row = rows[-1]
        else:
            raise ValueError(f"unexpected character {char!r} in ZPL graphic data")
        if len(row) >= row_chars:
            rows.append(row[:row_chars])
            row = ""
    return rows


def raster_from_escpos(data, page=0):
    """Label number ``page`` of an ESC/POS job: GS v 0 slices stacked until each cut."""
    pages, slices, position = [], [], 0
    while position < len(data):
        if data.startswith(b"\x1b@", position):  # ESC @ initialise
            position += 2
        elif data.startswith(b"\x1dv0", position):  # GS v 0 m xL xH yL yH raster
            width_bytes = data[position + 4] + 256 * data[position + 5]
            height = data[position + 6] + 256 * data[position + 7]
            start = position + 8
            position = start + width_bytes * height
            raw = data[start:position].translate(_INVERT)  # ESC/POS 1 = black, Pillow 1 = white
            slices.append(Image.frombytes("1", (width_bytes * 8, height), raw))
        elif data.startswith(b"\x1bd", position):  # ESC d n feed
            position += 3
        elif data.startswith(b"\x1dV", position):  # GS V m [n] cut ends the label
            position += 4 if data[position + 2] in (65, 66) else 3
            pages.append(_stack(slices))
            slices = []
        else:
            raise ValueError(f"unexpected ESC/POS byte 0x{data[position]:02x} at offset {position}")
    return _page(pages, page, "ESC/POS")


def _stack(slices):
    image = Image.new("1", (max(s.width for s in slices), sum(s.height for s in slices)), 1)
    top = 0
    for piece in slices:
        image.paste(piece, (0, top))
        top += piece.height
    return image
