import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import split_every
from odoo.tools.translate import LazyTranslate

from .. import exception_rules as er
from .. import lazy_text
from .. import logistics_state as ls
from .logistics_exception_rule import EXCEPTION_KINDS
from .logistics_ticket import OPEN_STATES

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

SCAN_BATCH = 10000
# Returned parcels are looked at for this long after they came back (their ticket is raised at once anyway).
RETURNED_SCAN_DAYS = 7

SNAPSHOT_QUERY = """
    SELECT p.id, p.logistics_state, p.logistics_state_date, p.logistics_label_printed_at,
           e.event_time, e.status, COALESCE(e.at_transfer_centre, FALSE), p.logistics_carrier_problem,
           p.carrier_id, p.company_id
      FROM stock_picking p
      LEFT JOIN logistics_shipment_event e ON e.id = p.last_track_event_id
     WHERE p.id = ANY(%s)
"""


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_label_printed_at = fields.Datetime(
        string="Label Printed At", copy=False, readonly=True, help="When the parcel got its label (or left the warehouse)."
    )
    logistics_carrier_problem = fields.Selection(
        EXCEPTION_KINDS,
        string="Problem Reported by Carrier",
        copy=False,
        readonly=True,
        help="The problem the carrier's latest status reports, if any.",
    )
    logistics_exception_kind = fields.Selection(
        EXCEPTION_KINDS, string="Exception Cause", copy=False, readonly=True, index=True
    )
    logistics_ticket_ids = fields.One2many("logistics.ticket", "picking_id", string="Exception Tickets")
    logistics_open_ticket_count = fields.Integer(string="Open Tickets", compute="_compute_logistics_open_ticket_count")

    def _compute_logistics_open_ticket_count(self):
        groups = self.env["logistics.ticket"]._read_group(
            [("picking_id", "in", self.ids), ("state", "in", OPEN_STATES)], ["picking_id"], ["__count"]
        )
        counts = {picking.id: count for picking, count in groups}
        for picking in self:
            picking.logistics_open_ticket_count = counts.get(picking.id, 0)

    # ------------------------------------------------------------------ scan

    @api.model
    def _cron_logistics_exception_scan(self):
        return self._logistics_scan_exceptions()

    @api.model
    def _logistics_scan_domain(self, now):
        return [
            ("state", "!=", "cancel"),
            "|",
            ("logistics_state", "in", tuple(er.SCANNED_STATES - {er.RETURNED_STATE})),
            "&",
            ("logistics_state", "=", er.RETURNED_STATE),
            ("logistics_state_date", ">=", now - timedelta(days=RETURNED_SCAN_DAYS)),
        ]

    @api.model
    def _logistics_scan_exceptions(self, batch_size=SCAN_BATCH):
        """Look at every shipment with the carrier (or waiting for it) and open a ticket per new problem.

        Reads the shipments in batches with plain SQL, checks them with :mod:`exception_rules` and writes only
        what changed. Returns the tickets opened."""
        now = fields.Datetime.now()
        policy = self.env["logistics.exception.rule"]._scan_policy(now)
        ids = self._search(self._logistics_scan_domain(now), order="id").get_result_ids()
        tickets = self.env["logistics.ticket"]
        for batch in split_every(batch_size, ids):
            tickets |= self.browse(batch)._logistics_check_exceptions(policy)
        _logger.info("Exception scan: %s shipments, %s new tickets", len(ids), len(tickets))
        return tickets

    def _logistics_check_exceptions(self, policy=None):
        """Check these shipments now; opens a ticket per problem not already open or handled."""
        if not self:
            return self.env["logistics.ticket"]
        policy = policy or self.env["logistics.exception.rule"]._scan_policy()
        snapshots = self._logistics_snapshots()
        problems = er.scan(snapshots, policy)
        if not problems:
            return self.env["logistics.ticket"]
        expected = {shipment.id: shipment.expected_date for shipment in snapshots if shipment.id in problems}
        return self._logistics_raise_problems(problems, policy, expected)

    def _logistics_snapshots(self):
        """The shipments as :class:`exception_rules.Shipment` tuples, read in one query."""
        self.env["stock.picking"].flush_model(
            [
                "logistics_state",
                "logistics_state_date",
                "logistics_label_printed_at",
                "last_track_event_id",
                "logistics_carrier_problem",
                "carrier_id",
                "company_id",
            ]
        )
        self.env["logistics.shipment.event"].flush_model(["event_time", "status", "at_transfer_centre"])
        self.env.cr.execute(SNAPSHOT_QUERY, (list(self.ids),))
        rows = self.env.cr.fetchall()
        expected = self._logistics_expected_dates()
        shipment = er.Shipment
        return [
            shipment(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], expected.get(row[0]), row[8], row[9])
            for row in rows
        ]

    def _logistics_expected_dates(self):
        """``{picking id: expected delivery date}`` of these shipments. Carrier integrations that store the date
        override it to read it in one query; this default asks each shipment."""
        dates = {}
        for picking in self:
            date = picking._logistics_expected_date()
            if date:
                dates[picking.id] = fields.Date.to_date(date)
        return dates

    def _logistics_raise_problems(self, problems, policy, expected):
        """Open the tickets of the problems not already open, nor closed for the same occurrence."""
        self.env["logistics.ticket"].flush_model(["picking_id", "kind", "state", "problem_since"])
        self.env.cr.execute(
            "SELECT picking_id, kind, state, problem_since FROM logistics_ticket WHERE picking_id = ANY(%s)",
            (list(problems),),
        )
        open_kinds, handled = set(), set()
        for picking_id, kind, state, since in self.env.cr.fetchall():
            if state in OPEN_STATES:
                open_kinds.add((picking_id, kind))
            handled.add((picking_id, kind, since))
        new = [
            (picking_id, problem)
            for picking_id, found in problems.items()
            for problem in found
            if (picking_id, problem.kind) not in open_kinds and (picking_id, problem.kind, problem.since) not in handled
        ]
        if not new:
            return self.env["logistics.ticket"]
        # One recordset, so that reading the pickings (carrier, company, last event...) is prefetched for all.
        pickings = {picking.id: picking for picking in self.browse(list(dict.fromkeys(pid for pid, _problem in new)))}
        found = [
            (pickings[picking_id], problem, _problem_detail(pickings[picking_id], problem, policy.now, expected))
            for picking_id, problem in new
        ]
        return self.env["logistics.ticket"]._raise_for(found)

    # ------------------------------------------------------------------ the exception flag

    def _logistics_sync_exception_flag(self):
        """A delivery is in exception (red in every list) while it has an open ticket or is in the exception state;
        the cause shown is the most urgent open ticket's."""
        if not self:
            return
        tickets = self.env["logistics.ticket"].search(
            [("picking_id", "in", self.ids), ("state", "in", OPEN_STATES)], order="priority desc, id desc"
        )
        latest = {}
        for ticket in tickets:
            latest.setdefault(ticket.picking_id.id, ticket)
        lang = self.env.company.partner_id.lang or self.env.lang
        for picking in self:
            ticket = latest.get(picking.id)
            if ticket:
                values = {
                    "is_logistics_exception": True,
                    "logistics_exception_kind": ticket.kind,
                    "logistics_exception_reason": ticket.with_context(lang=lang).detail or False,
                }
            elif picking.logistics_state == ls.EXCEPTION:
                values = {"logistics_exception_kind": False}
            else:
                values = {"is_logistics_exception": False, "logistics_exception_kind": False, "logistics_exception_reason": False}
            changed = {key: value for key, value in values.items() if picking[key] != value}
            if changed:
                # None of these fields is tracked: spare the chatter machinery on batches of thousands.
                picking.with_context(tracking_disable=True).write(changed)

    def action_logistics_open_tickets(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_logistics.action_logistics_tickets")
        action["domain"] = [("picking_id", "in", self.ids)]
        action["context"] = {"search_default_open": 1}
        return action


def _problem_detail(picking, problem, now, expected):
    """The clerk-facing message of a problem: a lazy term, translated in the reader's language."""
    kind = problem.kind
    if kind == er.OVERDUE:
        date = fields.Date.to_string(expected.get(picking.id))
        return _lt("Expected by %(date)s and still not delivered.", date=date)
    seen = picking.last_track_event_id.description or ""
    hours = int((now - problem.since).total_seconds() // 3600) if problem.since else 0
    if kind == er.NOT_PICKED_UP:
        return _lt("Label printed %(hours)s hours ago and no carrier scan yet.", hours=hours)
    if kind == er.NO_UPDATE:
        return _lt("No track update for %(hours)s hours. Last: %(event)s", hours=hours, event=seen)
    if kind == er.STUCK_AT_HUB:
        return _lt("At a transfer centre for %(hours)s hours: %(event)s", hours=hours, event=seen)
    if kind == er.NOT_COLLECTED:
        return _lt("Waiting in a locker or parcel station for %(hours)s hours: %(event)s", hours=hours, event=seen)
    if kind == er.LOST:
        return _lt("No news for %(hours)s hours, the parcel may be lost. Last: %(event)s", hours=hours, event=seen)
    return _lt("The carrier reports: %(event)s", event=seen or "-")
