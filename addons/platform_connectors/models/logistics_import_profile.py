from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.base.models.res_partner import _tz_get

from .. import order_files

# Labels of the order fields a file column can hold (keys: order_files.FIELDS).
IMPORT_FIELDS = [
    ("order_id", "Platform Order ID"),
    ("buyer_nick", "Buyer Nickname"),
    ("receiver_name", "Receiver Name"),
    ("receiver_mobile", "Receiver Mobile"),
    ("receiver_phone", "Receiver Phone"),
    ("receiver_province", "Province"),
    ("receiver_city", "City"),
    ("receiver_district", "District"),
    ("receiver_street", "Street Address"),
    ("receiver_zip", "ZIP"),
    ("buyer_remark", "Buyer Remark"),
    ("seller_memo", "Seller Memo"),
    ("paid_at", "Paid Time"),
    ("sku_id", "Platform SKU ID"),
    ("merchant_code", "Merchant Code (商家编码)"),
    ("title", "Product Title"),
    ("quantity", "Quantity"),
    ("unit_price", "Unit Price"),
    ("amount", "Line Amount"),
    ("freight", "Freight"),
]
FILE_TYPES = [("csv", "CSV"), ("xlsx", "Excel (.xlsx)"), ("xls", "Excel 97-2003 (.xls)")]
CSV_ENCODINGS = [
    ("auto", "Automatic (UTF-8 or GBK)"),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("gbk", "GBK"),
    ("gb18030", "GB18030"),
]
CSV_DELIMITERS = [
    ("auto", "Automatic"),
    ("comma", "Comma (,)"),
    ("semicolon", "Semicolon (;)"),
    ("tab", "Tab"),
    ("pipe", "Vertical Bar (|)"),
]


def default_timezone(env):
    return env.user.tz or order_files.DEFAULT_TIMEZONE


class LogisticsImportProfile(models.Model):
    """How the order export of one source is read: file options and which column holds which order field."""

    _name = "logistics.import.profile"
    _description = "Order File Import Profile"
    _order = "shop_id, name"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    shop_id = fields.Many2one(
        "logistics.shop",
        string="Shop",
        check_company=True,
        index=True,
        help="The shop whose exports this profile reads; it is proposed first when importing its orders. "
        "Empty: any shop.",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    file_type = fields.Selection(FILE_TYPES, required=True, default="csv")
    csv_encoding = fields.Selection(CSV_ENCODINGS, string="Encoding", required=True, default="auto")
    csv_delimiter = fields.Selection(CSV_DELIMITERS, string="Delimiter", required=True, default="auto")
    header_row = fields.Integer(
        required=True, default=1, help="Number of the row with the column names (1 for the first row)."
    )
    timezone = fields.Selection(
        _tz_get,
        required=True,
        default=lambda self: default_timezone(self.env),
        help="Time zone of the dates and times written in the file.",
    )
    line_ids = fields.One2many("logistics.import.profile.line", "profile_id", string="Columns", copy=True)

    @api.constrains("header_row")
    def _check_header_row(self):
        if any(profile.header_row < 1 for profile in self):
            raise ValidationError(self.env._("The header row is counted from 1."))

    def _columns(self):
        """``{order field: column header}`` of the profile."""
        self.ensure_one()
        return {line.order_field: line.column for line in self.line_ids}

    def _file_options(self):
        self.ensure_one()
        return {
            "csv_encoding": self.csv_encoding,
            "csv_delimiter": self.csv_delimiter,
            "header_row": self.header_row,
            "timezone": self.timezone,
        }


class LogisticsImportProfileLine(models.Model):
    _name = "logistics.import.profile.line"
    _description = "Order File Import Column"
    _order = "profile_id, id"

    profile_id = fields.Many2one("logistics.import.profile", required=True, ondelete="cascade", index=True)
    order_field = fields.Selection(IMPORT_FIELDS, string="Order Field", required=True)
    column = fields.Char(string="Column in File", required=True, help="The column's header as the file writes it.")

    _sql_constraints = [
        ("field_profile_uniq", "unique(profile_id, order_field)", "Each order field can be read from one column only."),
    ]
