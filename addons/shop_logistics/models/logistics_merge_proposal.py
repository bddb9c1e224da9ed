"""Merging the deliveries of one buyer: ``engines.merge_split.propose_merges`` groups the open deliveries of the
same shop, buyer and address (and warehouse, and ship-apart tag); each group is a proposal, merged at once for
shops that allow it, else by a clerk in one click. Merging moves the stock moves of the other deliveries into
the oldest one: each move keeps its order line, so every order keeps its lines, quantities and amounts."""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import lazy_text
from .. import logistics_state as ls
from ..engines import merge_split, orders as engine_orders
from .sale_order_audit import decimal
from .stock_picking_allocation import OPEN_LOGISTICS_STATES

PROPOSAL_STATES = [("proposed", "Proposed"), ("merged", "Merged"), ("dismissed", "Dismissed")]


class LogisticsMergeProposal(models.Model):
    _name = "logistics.merge.proposal"
    _description = "Delivery Merge Proposal"
    _order = "state, create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    shop_id = fields.Many2one("logistics.shop", string="Shop", required=True, ondelete="cascade", check_company=True)
    buyer = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Receiver", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", string="Warehouse", readonly=True)
    picking_ids = fields.Many2many(
        "stock.picking", "logistics_merge_proposal_picking_rel", "proposal_id", "picking_id", string="Deliveries",
        readonly=True,
    )
    picking_names = fields.Char(string="Delivery References", readonly=True, help="The deliveries as proposed.")
    order_ids = fields.Many2many(
        "sale.order", "logistics_merge_proposal_order_rel", "proposal_id", "order_id", string="Orders", readonly=True
    )
    order_count = fields.Integer(string="Orders Count", compute="_compute_order_count")
    amount_total = fields.Monetary(string="Total", readonly=True, help="What the buyer paid for these orders.")
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(PROPOSAL_STATES, default="proposed", required=True, readonly=True, index=True)
    merged_picking_id = fields.Many2one("stock.picking", string="Merged Delivery", readonly=True)
    merged_at = fields.Datetime(readonly=True)
    merged_by_id = fields.Many2one("res.users", string="Merged By", readonly=True)
    key = fields.Char(readonly=True, index=True, help="The deliveries' ids: the same group is proposed once.")
    reason_data = fields.Json(readonly=True)
    reason = fields.Char(compute="_compute_reason")

    @api.depends("buyer", "order_ids")
    def _compute_name(self):
        for proposal in self:
            proposal.name = "%s: %s" % (proposal.buyer or "", ", ".join(proposal.order_ids.mapped("name")))

    @api.depends("order_ids")
    def _compute_order_count(self):
        for proposal in self:
            proposal.order_count = len(proposal.order_ids)

    @api.depends("reason_data")
    @api.depends_context("lang")
    def _compute_reason(self):
        lang = self.env.lang or "en_US"
        for proposal in self:
            proposal.reason = lazy_text.render(proposal.reason_data, lang) or False

    # ------------------------------------------------------------------ proposing

    @api.model
    def _logistics_propose(self, pickings=None):
        """Propose merges among the open deliveries of the buyers of ``pickings`` (every open delivery when
        None), drop the open proposals of those deliveries that no longer hold, and merge those of shops that
        merge automatically. Returns the open proposals made or kept."""
        domain = self._logistics_candidate_domain()
        if pickings is not None:
            if not pickings:
                return self.browse()
            orders = pickings.sale_id
            buyers = [buyer for buyer in orders.mapped("buyer_nick") if buyer]
            domain += ["|", ("sale_id.buyer_nick", "in", buyers), ("sale_id.partner_id", "in", orders.partner_id.ids)]
        candidates = self.env["stock.picking"].search(domain, order="id")
        found = self._logistics_find(candidates)
        keys = [proposal_key(group) for group, _proposal in found]
        known = {
            proposal.key: proposal
            for proposal in self.search([("key", "in", keys), ("state", "in", ("proposed", "dismissed"))])
        }
        scope = self.search([("state", "=", "proposed")])
        if pickings is not None:
            scope = scope.filtered(lambda proposal: proposal.picking_ids & (candidates | pickings))
        # housekeeping, whoever triggers it: clerks cannot delete proposals themselves
        (scope - self.browse([proposal.id for proposal in known.values()])).sudo().unlink()
        new = [(group, proposal) for (group, proposal), key in zip(found, keys) if key not in known]
        proposals = self.create([proposal_values(group, proposal) for group, proposal in new])
        proposals |= self.browse([proposal.id for proposal in known.values() if proposal.state == "proposed"])
        proposals.filtered(lambda proposal: proposal.shop_id.auto_merge)._logistics_merge()
        return proposals.filtered(lambda proposal: proposal.state == "proposed")

    @api.model
    def _logistics_find(self, candidates):
        """[(deliveries, ``merge_split.MergeProposal``)] among ``candidates``. Only deliveries of one warehouse,
        kind of goods, shop and buyer can merge: the engine compares receivers and addresses within those groups
        that have two open deliveries or more."""
        groups = {}
        for picking in candidates:
            order = picking.sale_id
            key = (picking.company_id.id, picking.picking_type_id.id, picking.logistics_ship_apart_tag_id.id,
                   picking.shop_id.id, order.buyer_nick or order.partner_id.id)
            groups.setdefault(key, []).append(picking)
        found = []
        for group in groups.values():
            group = [picking for picking in group if picking._logistics_is_open()] if len(group) > 1 else ()
            if len(group) < 2:
                continue
            for proposal in merge_split.propose_merges([merge_order(picking) for picking in group]):
                found.append((self.env["stock.picking"].browse(proposal.order_keys), proposal))
        return found

    @api.model
    def _logistics_candidate_domain(self):
        return [
            ("picking_type_code", "=", "outgoing"),
            ("state", "not in", ("draft", "done", "cancel")),
            ("logistics_state", "in", OPEN_LOGISTICS_STATES),
            ("waybill_number", "=", False),
            ("logistics_label_printed_at", "=", False),
            ("shop_id", "!=", False),
            ("sale_id.audit_state", "=", "approved"),
        ]

    @api.model
    def action_logistics_find_merges(self):
        """Find Merges: look for merges among every open delivery."""
        self._logistics_propose()
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    # ------------------------------------------------------------------ merging

    def action_merge(self):
        """Merge: each proposal's deliveries become one (the oldest), carrying every order's goods."""
        proposals = self.filtered(lambda proposal: proposal.state == "proposed")
        if not proposals:
            raise UserError(self.env._("Select proposals that are not merged or dismissed yet."))
        proposals._logistics_merge()
        return True

    def action_dismiss(self):
        self.filtered(lambda proposal: proposal.state == "proposed").write({"state": "dismissed"})
        return True

    def _logistics_merge(self):
        for proposal in self:
            pickings = proposal.picking_ids.exists()
            problems = [picking.name for picking in pickings if not picking._logistics_is_open()]
            if problems or len(pickings) < 2:
                raise UserError(self.env._(
                    "%(proposal)s cannot be merged any more: %(deliveries)s were printed, shipped, cancelled or "
                    "merged meanwhile.", proposal=proposal.name, deliveries=", ".join(problems) or proposal.picking_names,
                ))
            if len(pickings.picking_type_id) > 1 or len(pickings.logistics_ship_apart_tag_id) > 1:
                raise UserError(self.env._(
                    "%s cannot be merged: its deliveries leave from different warehouses or carry goods that "
                    "ship apart.", proposal.name))
            merged = pickings._logistics_merge_deliveries()
            proposal.write({
                "state": "merged",
                "merged_picking_id": merged.id,
                "merged_at": fields.Datetime.now(),
                "merged_by_id": self.env.uid,
            })
        return True


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _logistics_merge_deliveries(self):
        """Move every move of these deliveries into the oldest one, delete the emptied ones, and send it back
        to routing (its weight and value changed). Returns the merged delivery."""
        target = self.sorted("id")[0]
        others = self - target
        names = others.mapped("name")
        origins = list(dict.fromkeys(filter(None, self.mapped("origin"))))
        others.move_ids.write({"picking_id": target.id})
        others.move_line_ids.write({"picking_id": target.id})
        others.unlink()
        values = {"origin": ",".join(origins) or False, "logistics_merged": True}
        if target.logistics_state == ls.ROUTED:
            values.update(routing_data=False, routing_rule_id=False, carrier_account_id=False, carrier_id=False,
                          expected_freight_cost=0.0, routing_service_type=False, routing_label_template=False)
        target.write(values)
        if target.logistics_state == ls.ROUTED:
            target._set_logistics_state(ls.TO_ROUTE)
        target.message_post(body=Markup("%s") % self.env._(
            "Merged with %(deliveries)s: one parcel for orders %(orders)s.",
            deliveries=", ".join(names), orders=", ".join(target.logistics_order_ids.mapped("name")),
        ))
        return target


def proposal_key(pickings):
    return ",".join(str(picking_id) for picking_id in sorted(pickings.ids))


def proposal_values(pickings, found):
    first = pickings[0]
    return {
        "company_id": first.company_id.id,
        "shop_id": first.shop_id.id,
        "buyer": found.buyer,
        "partner_id": first.partner_id.id,
        "warehouse_id": first.picking_type_id.warehouse_id.id,
        "picking_ids": [(6, 0, pickings.ids)],
        "picking_names": ", ".join(pickings.mapped("name")),
        "order_ids": [(6, 0, (pickings.move_ids.sale_line_id.order_id | pickings.sale_id).ids)],
        "amount_total": float(found.amount_total),
        "key": proposal_key(pickings),
        "reason_data": found.message.to_data(),
    }


def merge_order(picking):
    """The engine's view of an open delivery for merging: its shop, buyer, receiver and address."""
    order = picking.sale_id
    partner = picking.partner_id or order.partner_shipping_id
    masked = bool(order._fields.get("platform_receiver_protected") and order["platform_receiver_protected"])
    orders = picking.logistics_order_ids
    return engine_orders.Order(
        key=picking.id,
        name=", ".join(orders.mapped("name")) or picking.name,
        shop=picking.shop_id.name or "",
        platform=picking.platform or "",
        buyer=order.buyer_nick or str(order.partner_id.id),
        receiver=partner.name or "",
        mobile=partner.mobile or partner.phone or "",
        address=engine_orders.Address(
            partner.state_id.name or "", partner.city or "", "",
            " ".join(filter(None, [partner.street, partner.street2])),
        ),
        lines=(),
        amount_total=sum((decimal(sale.amount_total) for sale in orders), decimal(0)),
        contact_masked=masked,
    )
