import base64
import time

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime
from odoo.tools.translate import LazyTranslate

from odoo.addons.base.models.res_partner import _tz_get

from .. import order_files
from ..models.logistics_import_profile import (
    CSV_DELIMITERS,
    CSV_ENCODINGS,
    FILE_TYPES,
    IMPORT_FIELDS,
    default_timezone,
)

_lt = LazyTranslate(__name__)

FILE_ERRORS = {
    "empty_file": _lt("The file is empty."),
    "wrong_encoding": _lt(
        "The file is not %(encoding)s text. Choose its encoding in the file options: exports of Chinese "
        "platforms are often GBK."
    ),
    "undecodable": _lt(
        "The file could not be read as UTF-8 or GBK/GB18030 text. Upload a CSV or Excel file, or choose its "
        "encoding in the file options."
    ),
    "binary_file": _lt("The file is not a text file. Upload a CSV or an Excel (.xlsx, .xls) file."),
    "bad_csv": _lt(
        "The CSV file could not be read near line %(row)s: check the delimiter and that every quote is closed."
    ),
    "bad_excel": _lt("The file could not be opened as an Excel workbook. Save it again as .xlsx, or export it as CSV."),
    "no_header": _lt("Row %(row)s, the header row, is empty or after the end of the file: check the header row."),
}
ROW_ERRORS = {
    "empty": _lt("Row %(row)s: %(field)s (column “%(column)s”) is empty."),
    "no_product": _lt("Row %(row)s: no SKU ID, merchant code or product title."),
    "bad_quantity": _lt(
        "Row %(row)s: quantity “%(value)s” (column “%(column)s”) is not a whole number above zero."
    ),
    "bad_amount": _lt("Row %(row)s: %(field)s “%(value)s” (column “%(column)s”) is not an amount."),
    "bad_time": _lt(
        "Row %(row)s: paid time “%(value)s” (column “%(column)s”) is not a date and time such as "
        "2024-05-01 14:30:00."
    ),
    "order_incomplete": _lt("Row %(row)s: order %(order)s is left out because another of its rows has an error."),
}
PREVIEW_ROWS = 20
PREVIEW_ERRORS = 100
PREVIEW_TIME_FORMAT = "yyyy-MM-dd HH:mm:ss"
EMPTY_PREVIEW = {
    "file_error": False,
    "problems": [],
    "headers": [],
    "summary": False,
    "rows": [],
    "more_rows": 0,
    "errors": [],
    "more_errors": 0,
}


class LogisticsOrderImport(models.TransientModel):
    """Upload a shop's order export (CSV or Excel), check the column mapping on a preview, import the orders
    through the same inbox, SKU mapping and upsert as the platform connectors."""

    _name = "logistics.order.import"
    _description = "Import Shop Orders from a File"

    shop_id = fields.Many2one("logistics.shop", string="Shop", required=True, default=lambda self: self._default_shop())
    file = fields.Binary(string="File", attachment=False)
    file_name = fields.Char()
    file_type = fields.Selection(FILE_TYPES, compute="_compute_file_type")
    profile_id = fields.Many2one(
        "logistics.import.profile",
        string="Import Profile",
        compute="_compute_profile_id",
        store=True,
        readonly=False,
        domain="[('shop_id', 'in', [False, shop_id])]",
        help="The saved columns and file options of this source; empty to guess the columns from the headers.",
    )
    csv_encoding = fields.Selection(
        CSV_ENCODINGS, string="Encoding", compute="_compute_file_options", store=True, readonly=False
    )
    csv_delimiter = fields.Selection(
        CSV_DELIMITERS, string="Delimiter", compute="_compute_file_options", store=True, readonly=False
    )
    header_row = fields.Integer(compute="_compute_file_options", store=True, readonly=False)
    timezone = fields.Selection(_tz_get, compute="_compute_file_options", store=True, readonly=False)
    column_ids = fields.One2many(
        "logistics.order.import.column",
        "wizard_id",
        string="Columns",
        compute="_compute_column_ids",
        store=True,
        readonly=False,
    )
    preview = fields.Html(compute="_compute_preview", sanitize=False)
    state = fields.Selection([("setup", "Set Up"), ("done", "Imported")], required=True, default="setup")
    sync_log_id = fields.Many2one("logistics.sync.log", string="Sync Log", readonly=True)
    order_ids = fields.Many2many("sale.order", string="Orders", readonly=True)
    created_count = fields.Integer(related="sync_log_id.created_count")
    updated_count = fields.Integer(related="sync_log_id.updated_count")
    error_count = fields.Integer(related="sync_log_id.error_count")
    error_message = fields.Text(related="sync_log_id.error_message")
    held_count = fields.Integer(string="On Hold", compute="_compute_held_count")

    @api.model
    def _default_shop(self):
        return self.env["logistics.shop"].search([("platform", "=", "manual")], limit=1)

    @api.depends("file", "file_name")
    def _compute_file_type(self):
        for wizard in self:
            content = wizard._file_content()
            wizard.file_type = order_files.detect_file_type(content, wizard.file_name) if content else False

    @api.depends("shop_id")
    def _compute_profile_id(self):
        profiles = self.env["logistics.import.profile"]
        for wizard in self:
            shop = wizard.shop_id
            wizard.profile_id = profiles.search([("shop_id", "=", shop.id)], limit=1) if shop else profiles

    @api.depends("profile_id")
    def _compute_file_options(self):
        for wizard in self:
            if wizard.profile_id:
                wizard.update(wizard.profile_id._file_options())
            else:
                wizard.update(
                    {
                        "csv_encoding": "auto",
                        "csv_delimiter": "auto",
                        "header_row": 1,
                        "timezone": default_timezone(self.env),
                    }
                )

    @api.depends("profile_id", "file", "csv_encoding", "csv_delimiter", "header_row")
    def _compute_column_ids(self):
        for wizard in self:
            columns = wizard.profile_id._columns() if wizard.profile_id.line_ids else wizard._guessed_columns()
            wizard.column_ids = [Command.clear()] + [
                Command.create({"order_field": name, "column": column}) for name, column in columns.items()
            ]

    @api.depends(
        "state", "file", "file_name", "csv_encoding", "csv_delimiter", "header_row", "timezone", "shop_id",
        "column_ids.order_field", "column_ids.column",
    )
    def _compute_preview(self):
        for wizard in self:
            wizard.preview = wizard._render_preview() if wizard.state == "setup" and wizard.file else False

    @api.depends("order_ids.audit_state")
    def _compute_held_count(self):
        for wizard in self:
            wizard.held_count = len(wizard.order_ids.filtered(lambda order: order.audit_state == "on_hold"))

    # ------------------------------------------------------------------ reading

    def _file_content(self):
        self.ensure_one()
        data = self.with_context(bin_size=False).file
        return base64.b64decode(data) if data else b""

    def _read_table(self):
        """The uploaded file as a table; a UserError says why it cannot be read."""
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Upload the order file first."))
        try:
            return order_files.read_table(
                self._file_content(),
                self.file_type,
                self.csv_encoding or "auto",
                self.csv_delimiter or "auto",
                self.header_row or 1,
            )
        except order_files.FileError as error:
            raise UserError(self.env._(FILE_ERRORS[error.code]) % error.params) from None

    def _guessed_columns(self):
        if not self.file:
            return {}
        try:
            return order_files.guess_columns(self._read_table().headers)
        except UserError:
            return {}

    def _columns(self):
        return {column.order_field: column.column for column in self.column_ids if column.order_field and column.column}

    def _checked_columns(self, table):
        """``{field: header}`` of the mapping in this file; a UserError lists what the mapping lacks."""
        columns, missing = order_files.match_columns(self._columns(), table.headers)
        problems = self._mapping_problems(columns, missing)
        if problems:
            raise UserError("\n".join(problems))
        return columns

    def _mapping_problems(self, columns, missing):
        labels = self._field_labels()
        problems = []
        if missing:
            mapped = self._columns()
            problems.append(
                self.env._(
                    "Not in the file: %(columns)s. Correct the columns, choose another import profile, or empty the "
                    "profile to guess the columns from the headers.",
                    columns=", ".join(f"“{mapped[name]}” ({labels[name]})" for name in missing),
                )
            )
        if "order_id" not in columns and "order_id" not in missing:
            problems.append(self.env._("Map the column that holds the platform order ID."))
        if not any(name in columns or name in missing for name in order_files.PRODUCT_FIELDS):
            problems.append(self.env._("Map a column with the SKU ID, the merchant code or the product title."))
        return problems

    def _field_labels(self):
        return dict(self.env["logistics.order.import.column"]._fields["order_field"]._description_selection(self.env))

    def _row_error_message(self, error, labels):
        return self.env._(ROW_ERRORS[error.code]) % {
            "row": error.row,
            "order": error.order_id,
            "field": labels.get(error.field, error.field),
            "column": error.column,
            "value": error.value,
        }

    # ------------------------------------------------------------------ preview

    def _render_preview(self):
        try:
            table = self._read_table()
        except UserError as error:
            return self._render_preview_template({"file_error": error.args[0]})
        columns, missing = order_files.match_columns(self._columns(), table.headers)
        problems = self._mapping_problems(columns, missing)
        if problems:
            # Rows read with a mapping that does not fit the file would only show errors of the mapping.
            return self._render_preview_template({"problems": problems, "headers": table.headers})
        labels = self._field_labels()
        orders, errors = order_files.read_orders(table, columns, self._platform_code(), self.timezone)
        rows = [self._preview_row(number, values, columns, labels) for number, values in table.rows[:PREVIEW_ROWS]]
        return self._render_preview_template(
            {
                "headers": table.headers,
                "summary": self.env._(
                    "%(rows)s rows: %(orders)s orders to import, %(errors)s errors.",
                    rows=len(table.rows),
                    orders=len(orders),
                    errors=len(errors),
                ),
                "rows": rows,
                "more_rows": max(len(table.rows) - PREVIEW_ROWS, 0),
                "errors": [self._row_error_message(error, labels) for error in errors[:PREVIEW_ERRORS]],
                "more_errors": max(len(errors) - PREVIEW_ERRORS, 0),
            }
        )

    def _render_preview_template(self, values):
        return self.env["ir.qweb"]._render("platform_connectors.order_import_preview", dict(EMPTY_PREVIEW, **values))

    def _preview_row(self, number, values, columns, labels):
        """One row as it will be imported: the order read from this row alone, or the row's errors."""
        parsed, errors = order_files.parse_row(number, values, columns, self.timezone)
        if errors:
            texts = {name: values.get(header, "") for name, header in columns.items()}
            return {
                "row": number,
                "order_id": texts.get("order_id", ""),
                "receiver": texts.get("receiver_name", ""),
                "address": texts.get("receiver_street", ""),
                "product": " / ".join(filter(None, (texts.get("sku_id"), texts.get("merchant_code")))),
                "title": texts.get("title", ""),
                "quantity": texts.get("quantity", ""),
                "unit_price": texts.get("unit_price", ""),
                "amount": texts.get("amount", ""),
                "paid_at": texts.get("paid_at", ""),
                "errors": [self._row_error_message(error, labels) for error in errors],
            }
        order = order_files.build_order([parsed], [values], columns, self._platform_code(), self.timezone)
        receiver, line = order.receiver, order.lines[0]
        return {
            "row": number,
            "order_id": order.platform_order_id,
            "receiver": " ".join(filter(None, (receiver.name, receiver.mobile or receiver.phone))),
            "address": " ".join(
                filter(None, (receiver.province, receiver.city, receiver.district, receiver.street, receiver.zip))
            ),
            "product": " / ".join(filter(None, (line.platform_sku_id, line.merchant_code))),
            "title": line.title,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.amount,
            "paid_at": format_datetime(self.env, order.paid_at, dt_format=PREVIEW_TIME_FORMAT) if order.paid_at else "",
            "errors": [],
        }

    def _platform_code(self):
        return self.shop_id.platform or "manual"

    # ------------------------------------------------------------------ actions

    def action_import(self):
        """Import the file's orders through the shop's inbox, and log the run with its row errors."""
        self.ensure_one()
        self.env["sale.order"].check_access("create")
        table = self._read_table()
        columns = self._checked_columns(table)
        started = time.monotonic()
        orders, row_errors = order_files.read_orders(
            table, columns, self._platform_code(), self.timezone, self.file_name or ""
        )
        if not orders and not row_errors:
            raise UserError(self.env._("The file has no order rows below the header row."))
        # Logistics users import; the inbox and the sync log are written as the connectors write them.
        shop = self.shop_id.sudo()
        log = self.env["logistics.sync.log"].sudo().create({"shop_id": shop.id, "operation": "import"})
        counts = shop._platform_receive(orders, "import")
        labels = self._field_labels()
        errors = [self._row_error_message(error, labels) for error in row_errors]
        if counts["error_text"]:
            errors.append(counts["error_text"])
        totals = {
            "received": len(orders) + _rejected_order_count(row_errors),
            "created": counts["created"],
            "updated": counts["updated"],
            "errors": counts["errors"] + len(row_errors),
        }
        log._close("partial" if errors else "done", started, totals, errors)
        self.write(
            {
                "state": "done",
                "sync_log_id": log.id,
                "order_ids": [Command.set(self._find_orders(orders).ids)],
            }
        )
        return self._reopen()

    def _find_orders(self, orders):
        return self.env["sale.order"].search(
            [("shop_id", "=", self.shop_id.id), ("platform_order_id", "in", [o.platform_order_id for o in orders])]
        )

    def action_save_profile(self):
        """Keep this file's options and columns in the import profile (a new one for the shop if none)."""
        self.ensure_one()
        values = {
            "file_type": self.file_type or "csv",
            "csv_encoding": self.csv_encoding,
            "csv_delimiter": self.csv_delimiter,
            "header_row": self.header_row,
            "timezone": self.timezone,
            "line_ids": [Command.clear()]
            + [Command.create({"order_field": name, "column": column}) for name, column in self._columns().items()],
        }
        if self.profile_id:
            self.profile_id.write(values)
        else:
            self.profile_id = self.env["logistics.import.profile"].create(
                dict(
                    values,
                    name=f"{self.shop_id.name}: {self.file_name}" if self.file_name else self.shop_id.name,
                    shop_id=self.shop_id.id,
                    company_id=self.shop_id.company_id.id,
                )
            )
        return self._reopen()

    def action_open_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_logistics.action_shop_orders")
        action["domain"] = [("id", "in", self.order_ids.ids)]
        action["context"] = {}
        return action

    def action_open_sync_log(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.sync.log",
            "res_id": self.sync_log_id.id,
            "view_mode": "form",
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import Orders"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": dict(self.env.context, dialog_size="extra-large"),
        }


class LogisticsOrderImportColumn(models.TransientModel):
    _name = "logistics.order.import.column"
    _description = "Order File Import Column"

    wizard_id = fields.Many2one("logistics.order.import", required=True, ondelete="cascade")
    order_field = fields.Selection(IMPORT_FIELDS, string="Order Field", required=True)
    column = fields.Char(string="Column in File", required=True)


def _rejected_order_count(row_errors):
    """Orders of the file left out: each order with errors once, each row without an order ID on its own."""
    return len({error.order_id for error in row_errors if error.order_id}) + sum(
        1 for error in row_errors if not error.order_id
    )
