"""Orders from the CSV and Excel exports of shops without an API.

Read a file into a table of text cells, guess which column holds which order field from the headers, and turn
the rows into canonical orders (several rows with the same order ID make one order with several lines).

Plain Python (stdlib, ``openpyxl`` for .xlsx, ``xlrd`` for .xls): no Odoo import. Problems are raised or
returned with a code and parameters (:class:`FileError`, :class:`RowError`); the Odoo side turns them into
messages in the user's language.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .platforms.base import PAID, CanonicalAddress, CanonicalLine, CanonicalOrder

# ---------------------------------------------------------------------------------------------------------
# Canonical fields and the usual names of their columns
# ---------------------------------------------------------------------------------------------------------

FIELDS = (
    "order_id",
    "buyer_nick",
    "receiver_name",
    "receiver_mobile",
    "receiver_phone",
    "receiver_province",
    "receiver_city",
    "receiver_district",
    "receiver_street",
    "receiver_zip",
    "buyer_remark",
    "seller_memo",
    "paid_at",
    "sku_id",
    "merchant_code",
    "title",
    "quantity",
    "unit_price",
    "amount",
    "freight",
)
# A row is an order line only when it says which product: one of these must be mapped and filled.
PRODUCT_FIELDS = ("sku_id", "merchant_code", "title")
MONEY_FIELDS = ("unit_price", "amount", "freight")

# Headers as Chinese and English exports write them, best first. A header belongs to one field only.
HEADER_ALIASES = {
    "order_id": (
        "订单编号", "订单号", "订单id", "主订单编号", "平台订单号", "网店订单号", "原始单号", "交易编号", "外部订单号",
        "order id", "order no", "order number", "order",
    ),
    "buyer_nick": (
        "买家昵称", "买家会员名", "买家账号", "买家id", "买家", "会员名", "用户昵称",
        "buyer nick", "buyer nickname", "buyer", "buyer name", "customer", "customer name",
    ),
    "receiver_name": (
        "收货人", "收货人姓名", "收件人", "收件人姓名", "收货人名称", "联系人",
        "receiver", "receiver name", "consignee", "recipient", "recipient name", "shipping name", "ship to name",
    ),
    "receiver_mobile": (
        "手机", "手机号", "手机号码", "联系手机", "收货人手机", "收货人手机号", "收件人手机", "收件人手机号", "联系电话",
        "联系方式", "收货人联系方式",
        "mobile", "mobile phone", "cell phone", "receiver mobile",
    ),
    "receiver_phone": (
        "电话", "固定电话", "座机", "固话", "收货人电话", "收件人电话",
        "phone", "telephone", "tel", "shipping phone", "receiver phone",
    ),
    "receiver_province": (
        "省", "省份", "收货省份", "收件省", "收货人省份", "所在省", "province", "state", "shipping province",
    ),
    "receiver_city": ("市", "城市", "收货城市", "收件市", "收货人城市", "所在市", "city", "shipping city"),
    "receiver_district": (
        "区", "区县", "县区", "区/县", "收货区县", "收件区", "收货人区县", "所在区", "district", "county",
    ),
    "receiver_street": (
        "详细地址", "收货地址", "收件地址", "收货人地址", "地址", "街道地址",
        "address", "street", "address1", "shipping address", "shipping street", "address line 1",
    ),
    "receiver_zip": ("邮编", "邮政编码", "zip", "zip code", "postcode", "postal code", "shipping zip"),
    "buyer_remark": (
        "买家留言", "买家备注", "客户备注", "客户留言",
        "buyer message", "buyer remark", "buyer note", "customer note", "note", "notes",
    ),
    "seller_memo": (
        "卖家备注", "商家备注", "订单备注", "客服备注",
        "seller memo", "seller note", "seller remark", "merchant remark", "internal note",
    ),
    "paid_at": (
        "付款时间", "订单付款时间", "支付时间", "付款日期", "支付日期",
        "paid time", "paid at", "payment time", "paid date", "payment date",
    ),
    "sku_id": ("sku id", "sku编号", "平台sku", "平台skuid", "规格id", "variant id"),
    "merchant_code": (
        "商家编码", "商品编码", "商家sku编码", "sku编码", "规格编码", "货号", "商品货号", "商家编号",
        "sku", "merchant code", "seller sku", "sku code", "product code", "item code", "lineitem sku",
    ),
    "title": (
        "商品名称", "商品标题", "宝贝标题", "宝贝名称", "商品名", "商品", "品名", "货品名称",
        "product name", "product", "item name", "item", "title", "lineitem name",
    ),
    "quantity": ("数量", "商品数量", "购买数量", "quantity", "qty", "lineitem quantity"),
    "unit_price": ("单价", "商品单价", "价格", "售价", "unit price", "price", "lineitem price"),
    "amount": (
        "小计", "商品金额", "商品总价", "商品小计", "行金额", "金额", "line amount", "subtotal", "line total", "amount",
    ),
    "freight": (
        "运费", "邮费", "买家应付邮费", "快递费", "shipping", "shipping fee", "shipping cost", "freight", "postage",
    ),
}

# ---------------------------------------------------------------------------------------------------------
# File options
# ---------------------------------------------------------------------------------------------------------

FILE_TYPES = ("csv", "xlsx", "xls")
# "auto": UTF-8 (with or without BOM), then GB18030, which reads GBK and GB2312 too.
ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gbk", "gb18030")
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DEFAULT_TIMEZONE = "Asia/Shanghai"

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"

TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%Y.%m.%d %H:%M:%S",
)
CENT = Decimal("0.01")
# Marks a canonical order's raw payload as rows of a file (see order_from_payload).
PAYLOAD_KEY = "order_file"


class FileError(Exception):
    """The file as a whole cannot be read. ``code`` says why; ``params`` fill the message."""

    def __init__(self, code, **params):
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass
class RowError:
    """One problem of one row (``row`` is the row number a spreadsheet shows)."""

    row: int
    code: str
    order_id: str = ""
    field: str = ""
    column: str = ""
    value: str = ""


@dataclass
class Table:
    headers: list
    # (row number, {header: text})
    rows: list = field(default_factory=list)
    header_row: int = 1


@dataclass
class ParsedRow:
    number: int
    order_id: str
    # canonical field -> text of its column
    texts: dict
    line: CanonicalLine
    paid_at: datetime = None
    freight: Decimal = Decimal("0")


# ---------------------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------------------


def detect_file_type(content, file_name=""):
    """``xlsx``, ``xls`` or ``csv`` from the file's first bytes, else from its name."""
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if content.startswith(XLS_MAGIC):
        return "xls"
    extension = (file_name or "").rsplit(".", 1)[-1].lower()
    return extension if extension in ("xlsx", "xls") else "csv"


def read_table(content, file_type="csv", encoding="auto", delimiter="auto", header_row=1):
    """The file's header and data rows (empty rows left out); raises FileError when it cannot be read."""
    if not content:
        raise FileError("empty_file")
    if file_type == "xlsx":
        cells = read_xlsx_cells(content)
    elif file_type == "xls":
        cells = read_xls_cells(content)
    else:
        cells = read_csv_cells(decode_text(content, encoding), delimiter, header_row)
    return build_table(cells, header_row)


def decode_text(content, encoding="auto"):
    if encoding != "auto":
        try:
            return _checked_text(content.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            raise FileError("wrong_encoding", encoding=encoding.upper()) from None
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export.
        candidates = ("utf-16",)
    else:
        candidates = AUTO_ENCODINGS
    for candidate in candidates:
        try:
            return _checked_text(content.decode(candidate))
        except UnicodeDecodeError:
            continue
    raise FileError("undecodable")


def _checked_text(text):
    if "\x00" in text:
        raise FileError("binary_file")
    return text


def read_csv_cells(text, delimiter="auto", header_row=1):
    lines = text.splitlines()
    separator = DELIMITERS.get(delimiter) or guess_delimiter(lines[header_row - 1] if len(lines) >= header_row else "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        return [[clean_cell(cell) for cell in row] for row in reader]
    except csv.Error:
        raise FileError("bad_csv", row=reader.line_num) from None


def guess_delimiter(header_line):
    """The separator that splits the header line most (headers rarely contain one), comma when none does."""
    counts = {name: header_line.count(char) for name, char in DELIMITERS.items()}
    best = max(counts, key=counts.get)
    return DELIMITERS[best] if counts[best] else ","


def read_xlsx_cells(content):
    import openpyxl  # noqa: PLC0415 - only needed for Excel files

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.active or workbook.worksheets[0]
            sheet.reset_dimensions()
            return [[clean_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    except FileError:
        raise
    except Exception:  # noqa: BLE001 - a damaged workbook can fail anywhere inside openpyxl
        raise FileError("bad_excel") from None


def read_xls_cells(content):
    import xlrd  # noqa: PLC0415 - only needed for old Excel files

    try:
        book = xlrd.open_workbook(file_contents=content)
        sheet = book.sheet_by_index(0)
        return [[_xls_value(book, cell) for cell in sheet.row(index)] for index in range(sheet.nrows)]
    except Exception:  # noqa: BLE001 - a damaged workbook can fail anywhere inside xlrd
        raise FileError("bad_excel") from None


def _xls_value(book, cell):
    import xlrd  # noqa: PLC0415

    if cell.ctype == xlrd.XL_CELL_DATE:
        return clean_cell(xlrd.xldate_as_datetime(cell.value, book.datemode))
    return clean_cell(cell.value)


def clean_cell(value):
    """A cell as text: dates in ISO form, whole numbers without ".0", and the marks exports add to keep
    long numbers as text (a leading apostrophe or tab, ``="…"``) removed."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).replace("\ufeff", "").strip()
    quoted = re.fullmatch(r'="(.*)"', text)
    if quoted:
        text = quoted.group(1).strip()
    return text[1:].strip() if text.startswith("'") else text


def build_table(cells, header_row=1):
    if header_row < 1 or len(cells) < header_row or not any(cells[header_row - 1]):
        raise FileError("no_header", row=header_row)
    headers = unique_headers(cells[header_row - 1])
    rows = []
    for number, row in enumerate(cells[header_row:], start=header_row + 1):
        values = {header: (row[index] if index < len(row) else "") for index, header in enumerate(headers) if header}
        if any(values.values()):
            rows.append((number, values))
    return Table(headers=[header for header in headers if header], rows=rows, header_row=header_row)


def unique_headers(cells):
    """Headers as written; a repeated one gets " (2)", " (3)" … so no column hides another."""
    seen, headers = {}, []
    for cell in cells:
        header = clean_cell(cell)
        if header:
            seen[header] = seen.get(header, 0) + 1
            if seen[header] > 1:
                header = f"{header} ({seen[header]})"
        headers.append(header)
    return headers


# ---------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------


def normalize_header(header):
    """A header for comparison: case, spaces, punctuation and bracketed units such as "(元)" do not count."""
    text = (header or "").replace("\ufeff", "").strip().lower()
    text = re.sub(r"[(（\[【][^)）\]】]*[)）\]】]", "", text)
    return re.sub(r"[\s:：*_\-#.。]", "", text)


def guess_columns(headers):
    """``{field: header}`` for the headers that have a usual name; each header is used once."""
    by_name = {}
    for header in headers:
        by_name.setdefault(normalize_header(header), header)
    columns, used = {}, set()
    for field_name in FIELDS:
        for alias in HEADER_ALIASES[field_name]:
            header = by_name.get(normalize_header(alias))
            if header and header not in used:
                columns[field_name] = header
                used.add(header)
                break
    return columns


def match_columns(columns, headers):
    """The file's own header for each mapped column (spelling differences as in normalize_header do not
    count), and the fields whose column is not in the file."""
    by_name = {}
    for header in headers:
        by_name.setdefault(normalize_header(header), header)
    found, missing = {}, []
    for field_name, column in columns.items():
        header = column if column in headers else by_name.get(normalize_header(column))
        if header:
            found[field_name] = header
        else:
            missing.append(field_name)
    return found, missing


# ---------------------------------------------------------------------------------------------------------
# Rows to orders
# ---------------------------------------------------------------------------------------------------------


def parse_row(number, values, columns, tz_name=DEFAULT_TIMEZONE):
    """One row as an order line with its order's fields: ``(ParsedRow, [])`` or ``(None, [RowError, …])``."""
    texts = {field_name: values.get(header, "") for field_name, header in columns.items()}
    order_id = texts.get("order_id", "")
    errors = []

    def error(code, field_name=""):
        errors.append(
            RowError(number, code, order_id, field_name, columns.get(field_name, ""), texts.get(field_name, ""))
        )

    if not order_id:
        error("empty", "order_id")
    if not any(texts.get(name) for name in PRODUCT_FIELDS):
        error("no_product")
    quantity = _row_quantity(texts, error)
    amounts = {name: _row_amount(texts, name, error) for name in MONEY_FIELDS}
    paid_at = None
    if texts.get("paid_at"):
        try:
            paid_at = parse_time(texts["paid_at"], tz_name)
        except ValueError:
            error("bad_time", "paid_at")
    if errors:
        return None, errors
    line = _line(texts, quantity, amounts["unit_price"], amounts["amount"])
    return ParsedRow(number, order_id, texts, line, paid_at, amounts["freight"]), []


def _row_quantity(texts, error):
    if "quantity" not in texts:
        return 1
    if not texts["quantity"]:
        error("empty", "quantity")
        return 0
    try:
        quantity = Decimal(texts["quantity"].replace(",", ""))
    except InvalidOperation:
        quantity = Decimal(0)
    if quantity <= 0 or quantity != quantity.to_integral_value():
        error("bad_quantity", "quantity")
        return 0
    return int(quantity)


def _row_amount(texts, field_name, error):
    try:
        return parse_amount(texts.get(field_name, ""))
    except ValueError:
        error("bad_amount", field_name)
        return Decimal(0)


def _line(texts, quantity, unit_price, amount):
    if not amount:
        amount = (unit_price * quantity).quantize(CENT)
    if not unit_price and quantity:
        unit_price = (amount / quantity).quantize(CENT)
    return CanonicalLine(
        platform_sku_id=texts.get("sku_id", ""),
        merchant_code=texts.get("merchant_code", ""),
        title=texts.get("title", ""),
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
    )


def parse_amount(text):
    """Money as the exports write it ("¥1,299.00", "89元"); empty is zero; ValueError when not a number ≥ 0."""
    cleaned = re.sub(r"[¥￥$,\s元]|CNY|RMB", "", text or "", flags=re.IGNORECASE)
    if not cleaned:
        return Decimal(0)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if amount < 0 or not amount.is_finite():
        raise ValueError(text)
    return amount.quantize(CENT)


def parse_time(text, tz_name=DEFAULT_TIMEZONE):
    """A local date and time in the usual export formats -> naive UTC; ValueError when unreadable."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _strptime_any(re.sub(r"\.\d+$", "", text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(tz_name))
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _strptime_any(text):
    for time_format in TIME_FORMATS:
        try:
            return datetime.strptime(text, time_format)
        except ValueError:
            continue
    raise ValueError(text)


def _zone(tz_name):
    try:
        return ZoneInfo(tz_name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def read_orders(table, columns, platform, tz_name=DEFAULT_TIMEZONE, file_name=""):
    """Canonical orders of the table's rows, and the row errors. An order with an unreadable row is left out
    whole (its other rows are reported too), so no order is imported with lines missing."""
    rows_by_order, errors = {}, []
    for number, values in table.rows:
        parsed, row_errors = parse_row(number, values, columns, tz_name)
        errors += row_errors
        if parsed:
            rows_by_order.setdefault(parsed.order_id, []).append(parsed)
    broken = {error.order_id for error in errors if error.order_id}
    for order_id in broken & rows_by_order.keys():
        errors += [RowError(row.number, "order_incomplete", order_id) for row in rows_by_order.pop(order_id)]
    values_by_row = dict(table.rows)
    orders = [
        build_order(rows, [values_by_row[row.number] for row in rows], columns, platform, tz_name, file_name)
        for rows in rows_by_order.values()
    ]
    return orders, sorted(errors, key=lambda error: error.row)


def build_order(rows, raw_rows, columns, platform, tz_name=DEFAULT_TIMEZONE, file_name=""):
    """One canonical order from its parsed rows; order fields come from the first row that has them."""

    def first(field_name):
        return next((row.texts[field_name] for row in rows if row.texts.get(field_name)), "")

    lines = [row.line for row in rows]
    freight = next((row.freight for row in rows if row.freight), Decimal(0))
    total = sum((line.amount for line in lines), Decimal(0)) + freight
    return CanonicalOrder(
        platform=platform,
        platform_order_id=rows[0].order_id,
        platform_status=PAID,
        status=PAID,
        buyer_nick=first("buyer_nick"),
        buyer_remark=first("buyer_remark"),
        seller_memo=first("seller_memo"),
        receiver=_receiver(first),
        lines=lines,
        total_amount=total,
        shipping_amount=freight,
        paid_amount=total,
        paid_at=next((row.paid_at for row in rows if row.paid_at), None),
        raw={
            PAYLOAD_KEY: file_name or "",
            "platform": platform,
            "timezone": tz_name,
            "columns": dict(columns),
            "rows": [{"row": row.number, "values": values} for row, values in zip(rows, raw_rows)],
        },
    )


def _receiver(first):
    province, city, district, street, zip_code = (
        first("receiver_province"),
        first("receiver_city"),
        first("receiver_district"),
        first("receiver_street"),
        first("receiver_zip"),
    )
    if not province and street:
        province, city, district, street, found_zip = split_full_address(street)
        zip_code = zip_code or found_zip
    return CanonicalAddress(
        name=first("receiver_name"),
        mobile=first("receiver_mobile"),
        phone=first("receiver_phone"),
        province=province,
        city=city or "",
        district=district or "",
        street=street,
        zip=zip_code,
    )


def split_full_address(address):
    """Province, city, district, street and zip of an address the export wrote in one cell
    ("浙江省 杭州市 西湖区 文三路90号(310012)"); the address unchanged when it is not written that way."""
    zip_match = re.search(r"[(（](\d{6})[)）]\s*$", address)
    zip_code = zip_match.group(1) if zip_match else ""
    rest = address[: zip_match.start()].strip() if zip_match else address
    parts = rest.split()
    region = r"[\u4e00-\u9fff]+"
    if (
        len(parts) >= 4
        and all(re.fullmatch(region, part) for part in parts[:3])
        and re.search(r"(市|州|盟|地区|区|县)$", parts[1])
    ):
        return parts[0], parts[1], parts[2], " ".join(parts[3:]), zip_code
    return "", "", "", address, zip_code


def is_file_payload(raw):
    return isinstance(raw, dict) and PAYLOAD_KEY in raw and "rows" in raw


def order_from_payload(raw):
    """The canonical order again from a payload kept by build_order (to map a held order's lines again)."""
    columns, tz_name = raw["columns"], raw.get("timezone") or DEFAULT_TIMEZONE
    parsed, raw_rows = [], []
    for row in raw["rows"]:
        result, errors = parse_row(row["row"], row["values"], columns, tz_name)
        if errors:
            raise ValueError(f"row {row['row']} of the stored file payload is unreadable: {errors[0].code}")
        parsed.append(result)
        raw_rows.append(row["values"])
    return build_order(parsed, raw_rows, columns, raw.get("platform") or "manual", tz_name, raw[PAYLOAD_KEY])
