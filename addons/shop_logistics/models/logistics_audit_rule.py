import re
from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models

from ..engines import audit

AUDIT_RULE_KINDS = [
    (audit.HOLD_ADDRESS, "Address"),
    (audit.HOLD_PHONE, "Mobile Number"),
    (audit.HOLD_DUPLICATE, "Duplicate Orders"),
    (audit.HOLD_STOCK, "Stock"),
    (audit.HOLD_THRESHOLD, "Amount or Quantity Threshold"),
    (audit.HOLD_BLACKLIST, "Blacklist"),
    (audit.HOLD_REMARK, "Buyer Remark"),
    (audit.HOLD_RISK, "Platform Risk Flags"),
]

# "value | note", "value：note" … one entry a line
BLACKLIST_SEPARATOR = re.compile(r"\s*[|｜\t]\s*")
LIST_SEPARATOR = re.compile(r"[\s,，;；]+")


def parse_blacklist_lines(text):
    entries = {}
    for line in (text or "").splitlines():
        parts = BLACKLIST_SEPARATOR.split(line.strip(), maxsplit=1)
        if parts[0]:
            entries[parts[0]] = parts[1] if len(parts) > 1 else ""
    return entries


def parse_list(text):
    return frozenset(item for item in LIST_SEPARATOR.split(text or "") if item)


class LogisticsAuditRule(models.Model):
    _name = "logistics.audit.rule"
    _description = "Order Audit Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(AUDIT_RULE_KINDS, required=True, help="What the rule checks; it holds the order with "
                            "the hold reason of the same name.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    stop = fields.Boolean(
        string="Stop Here", help="When this rule holds an order, the rules after it are not checked."
    )
    # address
    require_street = fields.Boolean(string="Require Street", default=True)
    # mobile number
    hold_virtual = fields.Boolean(string="Hold Virtual Operators", help="Hold numbers of virtual operators (170, 171 …).")
    accept_landline = fields.Boolean(string="Accept Landlines")
    # duplicates
    duplicate_window_hours = fields.Float(
        string="Duplicate Window (hours)", default=24,
        help="Orders of the same buyer, address and items paid within this time are held as duplicates.",
    )
    # stock
    single_warehouse = fields.Boolean(
        string="One Warehouse Only", help="Hold orders that no single warehouse can ship whole (no split)."
    )
    # threshold
    max_amount = fields.Float(string="Maximum Amount", help="Orders above this amount are held; 0: no limit.")
    max_quantity = fields.Float(string="Maximum Items", help="Orders above this number of items are held; 0: no limit.")
    # blacklist
    blacklist_buyers = fields.Text(string="Blacklisted Buyers", help="One buyer nickname a line, a note after |.")
    blacklist_mobiles = fields.Text(string="Blacklisted Mobile Numbers", help="One number a line, a note after |.")
    blacklist_addresses = fields.Text(
        string="Blacklisted Addresses", help="One address fragment a line (e.g. a building), a note after |."
    )
    # remark
    review_tag_ids = fields.Many2many(
        "logistics.remark.tag", string="Tags to Review",
        help="Remark tags that need a person; empty: the tags of kind Needs Attention.",
    )
    hold_unrecognised = fields.Boolean(
        string="Hold Unrecognised Remarks", help="Hold every remark that no remark tag explains."
    )
    # risk
    risk_flags = fields.Char(
        string="Risk Flags", help="The platform's risk codes to hold, separated by commas; empty: any flag."
    )

    def _engine_rule(self):
        """The ``engines.audit`` rule of this record."""
        self.ensure_one()
        fields_ = {"key": str(self.id), "sequence": self.sequence, "stop": self.stop}
        kind = self.kind
        if kind == audit.HOLD_ADDRESS:
            fields_["require_street"] = self.require_street
        elif kind == audit.HOLD_PHONE:
            fields_.update(hold_virtual=self.hold_virtual, accept_landline=self.accept_landline)
        elif kind == audit.HOLD_DUPLICATE:
            fields_["window"] = timedelta(hours=self.duplicate_window_hours or 24)
        elif kind == audit.HOLD_STOCK:
            fields_["single_warehouse"] = self.single_warehouse
        elif kind == audit.HOLD_THRESHOLD:
            fields_["max_amount"] = Decimal(str(self.max_amount)) if self.max_amount else None
            fields_["max_quantity"] = Decimal(str(self.max_quantity)) if self.max_quantity else None
        elif kind == audit.HOLD_BLACKLIST:
            fields_.update(
                buyers=parse_blacklist_lines(self.blacklist_buyers),
                mobiles=parse_blacklist_lines(self.blacklist_mobiles),
                addresses=parse_blacklist_lines(self.blacklist_addresses),
            )
        elif kind == audit.HOLD_REMARK:
            tags = self.review_tag_ids or self.env["logistics.remark.tag"].with_context(active_test=False).search(
                [("kind", "=", "attention")]
            )
            fields_.update(review_tags=frozenset(tags.mapped("code")), hold_unrecognised=self.hold_unrecognised)
        elif kind == audit.HOLD_RISK:
            fields_["flags"] = parse_list(self.risk_flags) or None
        return audit.make_rule(kind, **fields_)

    @api.model
    def _engine_rules(self, company):
        return [rule._engine_rule() for rule in self.search([("company_id", "=", company.id)])]
