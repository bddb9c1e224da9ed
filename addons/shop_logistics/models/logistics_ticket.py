from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import lazy_text
from .logistics_exception_rule import EXCEPTION_KINDS

TICKET_STATES = [
    ("new", "New"),
    ("in_progress", "In Progress"),
    ("done", "Resolved"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = ("new", "in_progress")
RESOLUTIONS = [
    ("redeliver", "Re-deliver"),
    ("return", "Return to Sender"),
    ("compensate", "Compensate the Buyer"),
    ("contact_buyer", "Contact the Buyer"),
    ("delivered", "Delivered by the Carrier"),
    ("other", "Other"),
]


class LogisticsTicketTeam(models.Model):
    _name = "logistics.ticket.team"
    _description = "Exception Ticket Team"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    leader_id = fields.Many2one("res.users", string="Team Leader", domain=[("share", "=", False)])
    member_ids = fields.Many2many("res.users", string="Members", domain=[("share", "=", False)])
    ticket_ids = fields.One2many("logistics.ticket", "team_id", string="Tickets")
    open_ticket_count = fields.Integer(string="Open Tickets", compute="_compute_open_ticket_count")

    def _compute_open_ticket_count(self):
        groups = self.env["logistics.ticket"]._read_group(
            [("team_id", "in", self.ids), ("state", "in", OPEN_STATES)], ["team_id"], ["__count"]
        )
        counts = {team.id: count for team, count in groups}
        for team in self:
            team.open_ticket_count = counts.get(team.id, 0)

    def _next_owner(self, load):
        """The member (or leader) with the fewest open tickets; ``load`` ({user id: open tickets}) is updated."""
        self.ensure_one()
        candidates = self.member_ids or self.leader_id
        if not candidates:
            return self.env["res.users"]
        owner = min(candidates, key=lambda user: (load.get(user.id, 0), user.id))
        load[owner.id] = load.get(owner.id, 0) + 1
        return owner


class LogisticsTicketAssignment(models.Model):
    """Who handles the tickets of a shop, a carrier or a kind of problem: the first matching rule wins."""

    _name = "logistics.ticket.assignment"
    _description = "Exception Ticket Assignment Rule"
    _order = "sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    shop_id = fields.Many2one("logistics.shop", string="Shop", check_company=True, help="Empty for every shop.")
    carrier_id = fields.Many2one("delivery.carrier", string="Shipping Method", help="Empty for every carrier.")
    kind = fields.Selection(EXCEPTION_KINDS, string="Problem", help="Empty for every problem.")
    team_id = fields.Many2one("logistics.ticket.team", string="Team", required=True, check_company=True)
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        domain=[("share", "=", False)],
        help="Empty: the team member with the fewest open tickets.",
    )

    def _matches(self, picking, kind):
        self.ensure_one()
        return (
            self.company_id == picking.company_id
            and (not self.shop_id or self.shop_id == picking.shop_id)
            and (not self.carrier_id or self.carrier_id == picking.carrier_id)
            and (not self.kind or self.kind == kind)
        )


class LogisticsTicket(models.Model):
    _name = "logistics.ticket"
    _description = "Shipment Exception Ticket"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "priority desc, sla_deadline, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    picking_id = fields.Many2one(
        "stock.picking", string="Delivery", required=True, index=True, ondelete="cascade", tracking=True
    )
    company_id = fields.Many2one(related="picking_id.company_id", store=True, index=True)
    sale_id = fields.Many2one(related="picking_id.sale_id", store=True, index=True, string="Order")
    shop_id = fields.Many2one(related="picking_id.shop_id", store=True, index=True)
    carrier_id = fields.Many2one(related="picking_id.carrier_id", store=True, index=True, string="Carrier")
    waybill_number = fields.Char(related="picking_id.waybill_number")
    platform_order_id = fields.Char(related="picking_id.platform_order_id")
    logistics_state = fields.Selection(related="picking_id.logistics_state", string="Shipment State")
    shipment_event_ids = fields.One2many(related="picking_id.shipment_event_ids", string="Track Events")
    kind = fields.Selection(EXCEPTION_KINDS, string="Problem", required=True, index=True, tracking=True)
    rule_id = fields.Many2one("logistics.exception.rule", string="Rule", readonly=True)
    detail = fields.Char(compute="_compute_detail", string="Detail")
    # The detail as written by the scan (translated for each reader): see lazy_text.
    detail_data = fields.Json(string="Detail as Written", readonly=True, copy=False)
    problem_since = fields.Datetime(
        string="Problem Since", readonly=True, help="When the situation started (e.g. the last track event)."
    )
    state = fields.Selection(
        TICKET_STATES, default="new", required=True, index=True, tracking=True, group_expand="_group_expand_states"
    )
    priority = fields.Selection([("0", "Normal"), ("1", "High"), ("2", "Urgent")], default="0", index=True)
    team_id = fields.Many2one("logistics.ticket.team", string="Team", tracking=True, check_company=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="Owner", tracking=True, index=True, domain=[("share", "=", False)]
    )
    sla_deadline = fields.Datetime(string="SLA Deadline", tracking=True, index=True)
    sla_overdue = fields.Boolean(
        string="SLA Overdue", compute="_compute_sla_overdue", search="_search_sla_overdue"
    )
    resolution = fields.Selection(RESOLUTIONS, tracking=True)
    resolution_note = fields.Text(string="Resolution Notes")
    closed_at = fields.Datetime(string="Closed At", readonly=True, copy=False)
    resolution_hours = fields.Float(
        string="Hours to Resolve", readonly=True, aggregator="avg", help="From the ticket's creation to its closing."
    )
    auto_closed = fields.Boolean(readonly=True, help="Closed by the system when the parcel was delivered.")
    color = fields.Integer(compute="_compute_color")

    def init(self):
        # One open ticket per delivery and problem, whatever the scans and users do at the same time.
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS logistics_ticket_open_uniq ON logistics_ticket (picking_id, kind) "
            "WHERE state IN ('new', 'in_progress')"
        )

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"].sudo().search(
            [("code", "=", "logistics.ticket"), ("company_id", "in", [self.env.company.id, False])],
            order="company_id",
            limit=1,
        )
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = sequence._next() if sequence else "/"
            if "detail" in vals:
                vals["detail_data"] = lazy_text.encode(vals.pop("detail"))
        tickets = super().create(vals_list)
        tickets._schedule_owner_activity()
        tickets.picking_id._logistics_sync_exception_flag()
        return tickets

    def write(self, vals):
        closing = "state" in vals and vals["state"] not in OPEN_STATES
        if closing:
            vals = dict(vals, closed_at=vals.get("closed_at") or fields.Datetime.now())
        elif vals.get("state") in OPEN_STATES:
            vals = dict(vals, closed_at=False, resolution_hours=0, auto_closed=False)
        result = super().write(vals)
        if closing:
            for ticket in self:
                hours = (ticket.closed_at - ticket.create_date).total_seconds() / 3600
                super(LogisticsTicket, ticket).write({"resolution_hours": round(hours, 2)})
            self.activity_ids.action_feedback(feedback=self.env._("Ticket closed."))
        if "state" in vals:
            self.picking_id._logistics_sync_exception_flag()
        if "user_id" in vals:
            self._schedule_owner_activity()
        return result

    # ------------------------------------------------------------------ computes

    @api.depends("detail_data")
    @api.depends_context("lang")
    def _compute_detail(self):
        lang = self.env.lang or "en_US"
        for ticket in self:
            ticket.detail = lazy_text.render(ticket.detail_data, lang) or False

    @api.depends("state", "sla_deadline")
    def _compute_sla_overdue(self):
        now = fields.Datetime.now()
        for ticket in self:
            ticket.sla_overdue = bool(ticket.state in OPEN_STATES and ticket.sla_deadline and ticket.sla_deadline < now)

    def _search_sla_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on SLA Overdue."))
        overdue = [("state", "in", OPEN_STATES), ("sla_deadline", "<", fields.Datetime.now())]
        if (operator == "=") == value:
            return overdue
        return ["!", "&", *overdue]

    @api.depends("sla_overdue", "priority")
    def _compute_color(self):
        for ticket in self:
            ticket.color = 1 if ticket.sla_overdue else (2 if ticket.priority != "0" else 0)

    @api.model
    def _group_expand_states(self, states, domain):
        return [key for key, _label in TICKET_STATES]

    # ------------------------------------------------------------------ life cycle

    def action_start(self):
        self.filtered(lambda t: t.state == "new").write({"state": "in_progress"})

    def action_assign_to_me(self):
        """The clerk takes the tickets: they become the owner and the work starts."""
        closed = self.filtered(lambda t: t.state not in OPEN_STATES)
        if closed:
            raise UserError(
                self.env._("Closed tickets cannot be taken: %s", ", ".join(closed.mapped("name")))
            )
        self.filtered(lambda t: t.user_id != self.env.user).write({"user_id": self.env.user.id})
        self.action_start()

    def action_resolve(self):
        missing = self.filtered(lambda t: not t.resolution)
        if missing:
            raise UserError(
                self.env._("Choose how the problem was resolved first: %s", ", ".join(missing.mapped("name")))
            )
        self.filtered(lambda t: t.state in OPEN_STATES).write({"state": "done"})

    def action_cancel(self):
        self.filtered(lambda t: t.state in OPEN_STATES).write({"state": "cancelled"})

    def action_reopen(self):
        closed = self.filtered(lambda t: t.state not in OPEN_STATES)
        for ticket in closed:
            duplicate = self.search_count(
                [("picking_id", "=", ticket.picking_id.id), ("kind", "=", ticket.kind), ("state", "in", OPEN_STATES)]
            )
            if duplicate:
                raise UserError(
                    self.env._("%s already has an open ticket for this problem.", ticket.picking_id.display_name)
                )
        closed.write({"state": "in_progress", "resolution": False})

    def _close_delivered(self):
        """The parcel was delivered: its open tickets are resolved by the carrier."""
        open_tickets = self.filtered(lambda t: t.state in OPEN_STATES)
        if not open_tickets:
            return
        open_tickets.write({"state": "done", "resolution": "delivered", "auto_closed": True})
        for ticket in open_tickets:
            ticket.message_post(body=self.env._("Closed automatically: the parcel was delivered."))

    def action_open_delivery(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.picking",
            "res_id": self.picking_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ assignment

    def _schedule_owner_activity(self):
        for ticket in self.filtered(lambda t: t.user_id and t.state in OPEN_STATES):
            if ticket.activity_ids.filtered(lambda a: a.user_id == ticket.user_id):
                continue
            # The summary is stored: write it in the owner's language, not in the scan's (English) one.
            owner_env = ticket.with_context(lang=ticket.user_id.lang or self.env.lang).env
            kind = dict(ticket._fields["kind"]._description_selection(owner_env)).get(ticket.kind)
            ticket.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.to_date(ticket.sla_deadline or fields.Datetime.now()),
                summary=owner_env._("Resolve: %s", kind),
                user_id=ticket.user_id.id,
            )

    @api.model
    def _assignment_for(self, pickings, kinds):
        """``{(picking id, kind): (team, owner)}`` from the assignment rules (first match by sequence)."""
        rules = self.env["logistics.ticket.assignment"].sudo().search([])
        load = {}
        if rules:
            groups = self.sudo()._read_group([("state", "in", OPEN_STATES), ("user_id", "!=", False)], ["user_id"], ["__count"])
            load = {user.id: count for user, count in groups}
        found = {}
        for picking in pickings:
            for kind in kinds.get(picking.id, ()):
                rule = next((rule for rule in rules if rule._matches(picking, kind)), None)
                if rule:
                    owner = rule.user_id or rule.team_id._next_owner(load)
                    found[(picking.id, kind)] = (rule.team_id, owner)
        return found

    @api.model
    def _raise_for(self, found):
        """Open the tickets of newly found problems: ``found`` is ``[(picking, Problem, detail)]``."""
        if not found:
            return self.browse()
        rules = self.env["logistics.exception.rule"]._rules_by_scope()
        kinds = {}
        for picking, problem, _detail in found:
            kinds.setdefault(picking.id, []).append(problem.kind)
        pickings = self.env["stock.picking"].browse(list(kinds))
        assignment = self._assignment_for(pickings, kinds)
        now = fields.Datetime.now()
        vals_list = []
        for picking, problem, detail in found:
            rule = self.env["logistics.exception.rule"]._rule_for(
                rules, problem.kind, picking.carrier_id.id or None, picking.company_id.id
            )
            team, owner = assignment.get((picking.id, problem.kind), (self.env["logistics.ticket.team"], None))
            vals_list.append(
                {
                    "picking_id": picking.id,
                    "kind": problem.kind,
                    "rule_id": rule.id or False,
                    "problem_since": problem.since,
                    "detail": detail,
                    "priority": rule.priority or "0",
                    "sla_deadline": now + timedelta(hours=rule.sla_hours if rule else 24),
                    "team_id": team.id or False,
                    "user_id": owner.id if owner else False,
                }
            )
        # Opened by the system: no "created" note and no initial-value tracking in each chatter.
        tickets = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True, mail_notrack=True).create(
            vals_list
        )
        tickets._notify_buyers()
        return tickets

    def _notify_buyers(self):
        for ticket in self.filtered(lambda t: t.rule_id.notify_buyer):
            ticket.picking_id._logistics_notify("exception", ref=str(ticket.id))
