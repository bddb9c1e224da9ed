import hashlib

from odoo import api, fields, models

from .. import exception_rules as er
from .logistics_exception_rule import EXCEPTION_KINDS

EVENT_STATUSES = [
    ("collected", "Collected"),
    ("in_transit", "In Transit"),
    ("out_for_delivery", "Out for Delivery"),
    ("at_pickup_point", "At Pickup Point"),
    ("delivered", "Delivered"),
    ("exception", "Exception"),
    ("returning", "Returning"),
    ("returned", "Returned"),
    ("info", "Information"),
]


def event_key(event_time, status, description, location):
    """Stable identity of one track event of a waybill: the same event pushed twice has the same key."""
    raw = "|".join(str(part or "").strip() for part in (event_time, status, description, location))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


class LogisticsShipmentEvent(models.Model):
    _name = "logistics.shipment.event"
    _description = "Shipment Track Event"
    _order = "waybill_number, event_time desc, id desc"
    _rec_name = "description"

    waybill_number = fields.Char(required=True, index=True)
    express_code = fields.Char(string="Express Company Code", index=True)
    picking_id = fields.Many2one("stock.picking", string="Delivery", index=True, ondelete="set null")
    sale_id = fields.Many2one(related="picking_id.sale_id", store=True, index=True, string="Order")
    company_id = fields.Many2one(
        "res.company", compute="_compute_company_id", store=True, index=True, precompute=True
    )
    event_time = fields.Datetime(required=True)
    location = fields.Char()
    description = fields.Char(required=True)
    status = fields.Selection(EVENT_STATUSES, string="Normalised Status", required=True, default="info")
    carrier_status = fields.Char(help="The status code exactly as the carrier sent it (e.g. KDNiao State/StateEx).")
    source = fields.Selection(
        [("push", "Push"), ("query", "Query"), ("manual", "Manual")], required=True, default="manual"
    )
    problem_kind = fields.Selection(
        EXCEPTION_KINDS,
        string="Problem",
        help="The problem this event reports, read from the carrier's status code by the carrier integration.",
    )
    at_transfer_centre = fields.Boolean(
        string="At Transfer Centre", help="The parcel arrived at a sorting or transfer centre with this scan."
    )
    raw_payload = fields.Json(string="Raw Payload")
    event_key = fields.Char(required=True, readonly=True, copy=False)

    _sql_constraints = [
        (
            "waybill_event_uniq",
            "unique(waybill_number, event_key)",
            "This track event is already recorded for the waybill.",
        ),
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS logistics_shipment_event_timeline_idx "
            "ON logistics_shipment_event (waybill_number, event_time DESC)"
        )

    @api.depends("picking_id.company_id")
    def _compute_company_id(self):
        for event in self:
            event.company_id = event.picking_id.company_id or self.env.company

    @api.model
    def _prepare_event_key(self, vals):
        return event_key(vals.get("event_time"), vals.get("status"), vals.get("description"), vals.get("location"))

    @api.model
    def _default_problem_kind(self, vals):
        """The problem of an event whose carrier integration said nothing: returns are a problem, any other
        exception too; carriers give the precise kind (refused, address problem…) from their own codes."""
        return {
            "returning": er.RETURNED,
            "returned": er.RETURNED,
            "exception": er.CARRIER_PROBLEM,
        }.get(vals.get("status"), False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("event_key", self._prepare_event_key(vals))
            if "problem_kind" not in vals:
                vals["problem_kind"] = self._default_problem_kind(vals)
            if "at_transfer_centre" not in vals:
                vals["at_transfer_centre"] = vals.get("status") == "in_transit" and er.looks_like_transfer_centre(
                    vals.get("description")
                )
        return super().create(vals_list)

    @api.model
    def _record_events(self, vals_list):
        """Store track events, skipping those already recorded (same waybill and key), in one query per batch.

        Returns the newly created events; the pickings' last event is updated.
        """
        fresh = {}
        for vals in vals_list:
            vals = dict(vals, event_time=fields.Datetime.to_datetime(vals["event_time"]))
            vals["event_key"] = self._prepare_event_key(vals)
            fresh.setdefault((vals["waybill_number"], vals["event_key"]), vals)
        if not fresh:
            return self.browse()
        # By waybill only (one index scan; a list of (waybill, key) pairs makes PostgreSQL plan an OR of each).
        self.env.cr.execute(
            "SELECT waybill_number, event_key FROM logistics_shipment_event WHERE waybill_number = ANY(%s)",
            (list({waybill for waybill, _key in fresh}),),
        )
        for existing in self.env.cr.fetchall():
            fresh.pop(existing, None)
        events = self.create(list(fresh.values()))
        events.picking_id._update_last_track_event()
        events.picking_id._logistics_check_exceptions()
        return events
