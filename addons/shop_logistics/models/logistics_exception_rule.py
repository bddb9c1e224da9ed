from datetime import datetime

import pytz

from odoo import api, fields, models

from .. import exception_rules as er

EXCEPTION_KINDS = [
    (er.NOT_PICKED_UP, "Not Picked Up"),
    (er.NO_UPDATE, "No Track Update"),
    (er.STUCK_AT_HUB, "Stuck at a Transfer Centre"),
    (er.DELIVERY_FAILED, "Delivery Failed"),
    (er.REFUSED, "Refused"),
    (er.RETURNED, "Returned"),
    (er.ADDRESS_PROBLEM, "Address Problem"),
    (er.NOT_COLLECTED, "Not Collected from Locker or Station"),
    (er.OVERDUE, "Overdue"),
    (er.LOST, "Lost"),
    (er.CARRIER_PROBLEM, "Other Carrier Problem"),
]

# Where shipments are when nothing else says it: expected dates are calendar days in this time zone.
DEFAULT_TZ = "Asia/Shanghai"


class LogisticsExceptionRule(models.Model):
    """A threshold for one kind of shipment problem, for every carrier or for one of them."""

    _name = "logistics.exception.rule"
    _description = "Shipment Exception Rule"
    _order = "sequence, kind, carrier_id"
    _rec_name = "kind"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(EXCEPTION_KINDS, string="Problem", required=True)
    threshold_hours = fields.Float(
        string="Threshold (h)",
        help="Hours the situation must last before it is an exception: since the label was printed (not picked "
        "up), since the last track event (no update, transfer centre, locker, lost, carrier problems), or after "
        "the expected delivery day (overdue). 0 raises it at once.",
    )
    carrier_id = fields.Many2one(
        "delivery.carrier", string="Shipping Method", help="Only for this shipping method; empty for all."
    )
    company_id = fields.Many2one("res.company", string="Company", help="Empty for all companies.")
    sla_hours = fields.Float(
        string="SLA (h)", default=24, help="Hours the team has to resolve the ticket this rule raises."
    )
    priority = fields.Selection(
        [("0", "Normal"), ("1", "High"), ("2", "Urgent")], default="0", string="Ticket Priority"
    )
    notify_buyer = fields.Boolean(
        string="Notify the Buyer",
        help="Tell the buyer about the problem and what happens next (if the shop sends exception notices).",
    )

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS logistics_exception_rule_kind_scope_uniq "
            "ON logistics_exception_rule (kind, COALESCE(carrier_id, 0), COALESCE(company_id, 0)) WHERE active"
        )

    @api.depends("kind", "carrier_id")
    @api.depends_context("lang")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for rule in self:
            label = labels.get(rule.kind, rule.kind or "")
            rule.display_name = f"{label} ({rule.carrier_id.name})" if rule.carrier_id else label

    @api.model
    def _scan_policy(self, now=None):
        """The thresholds of the active rules, for :mod:`exception_rules`."""
        now = now or fields.Datetime.now()
        rules = self.sudo().search_read([], ["kind", "threshold_hours", "carrier_id", "company_id"], load=None)
        return er.Policy(
            [(rule["kind"], rule["threshold_hours"], rule["carrier_id"], rule["company_id"]) for rule in rules],
            now,
            utc_offset=self._utc_offset(now),
        )

    @api.model
    def _utc_offset(self, now):
        tz_name = self.env.company.partner_id.tz or self.env.user.tz or DEFAULT_TZ
        try:
            zone = pytz.timezone(tz_name)
        except pytz.UnknownTimeZoneError:
            zone = pytz.timezone(DEFAULT_TZ)
        return zone.utcoffset(datetime(now.year, now.month, now.day, now.hour))

    @api.model
    def _rules_by_scope(self):
        """``{(kind, carrier_id, company_id): rule}`` of the active rules, to find a problem's rule quickly."""
        return {(rule.kind, rule.carrier_id.id or None, rule.company_id.id or None): rule for rule in self.sudo().search([])}

    @api.model
    def _rule_for(self, rules, kind, carrier_id, company_id):
        for key in er.scope_keys(kind, carrier_id or None, company_id or None):
            if key in rules:
                return rules[key]
        return self.browse()
