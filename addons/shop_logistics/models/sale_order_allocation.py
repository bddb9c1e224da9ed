"""Warehouse allocation of shop orders: ``engines.allocation`` picks the warehouses, ``engines.merge_split`` cuts
the order into deliveries, and Odoo's procurement makes them.

- A new shop order starts in the nearest warehouse by region (``_compute_warehouse_id``); at confirmation
  (paid orders are confirmed when imported) its warehouse becomes the first one the allocation picks with
  today's stock and capacity (``_logistics_preallocate``), so its delivery is usually right from the start.
- At approval the allocation decides for good, in batch, and the decision with its explanation is stored on
  the order. An order not confirmed yet gets the warehouse as its ``warehouse_id``. A confirmed order whose
  deliveries do not match the plan (other warehouse, stock split between warehouses) has them cancelled and
  procured again line by line from the allocated warehouses (``procurement.group.run`` with the line's own
  procurement values and the allocated ``warehouse_id``), so moves keep their ``sale_line_id`` and Odoo would
  procure nothing more for the lines. Deliveries already issued, printed, picked or merged are never touched:
  the decision is then only explained.
- Goods whose product tag ships apart (fresh …) carry the tag in their procurement values, and moves with
  different tags never share a picking (``stock_picking_allocation``).
"""

from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools.float_utils import float_compare
from odoo.tools.translate import LazyTranslate

from .. import lazy_text
from ..engines import allocation as engine_allocation, merge_split, orders as engine_orders
from ..engines.cn_regions import AreaNotResolved, load_divisions
from .sale_order_audit import decimal, partner_address

_lt = LazyTranslate(__name__)

KEPT = "kept"
REPLANNED = "replanned"
PLANNED = "planned"
IN_PROGRESS = "in_progress"
NOT_ALLOCATED = "not_allocated"

QUIET = frozenset({"allocation.not_for_shop"})

# A plenty of a product that is not tracked in stock (consumables): every warehouse has it.
UNTRACKED_STOCK = decimal(10**12)


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _prepare_procurement_values(self, group_id=False):
        values = super()._prepare_procurement_values(group_id)
        if self.order_id.shop_id and "logistics_ship_apart_tag_id" not in values:
            values["logistics_ship_apart_tag_id"] = self._logistics_ship_apart_tag().id
        return values

    def _logistics_ship_apart_tag(self):
        """The first tag (in tag order) of the product that ships apart, or no tag."""
        self.ensure_one()
        apart = self.env["product.tag"].browse(self.env["product.tag"]._logistics_ship_apart_tag_ids())
        product_tags = self.product_id.all_product_tag_ids
        return next((tag for tag in apart if tag in product_tags), self.env["product.tag"])


class ProductTag(models.Model):
    _inherit = "product.tag"

    @api.model
    @tools.ormcache()
    def _logistics_ship_apart_tag_ids(self):
        return tuple(self.sudo().search([("logistics_ship_apart", "=", True)]).ids)

    @api.model_create_multi
    def create(self, vals_list):
        tags = super().create(vals_list)
        if any(vals.get("logistics_ship_apart") for vals in vals_list):
            self.env.registry.clear_cache()
        return tags

    def write(self, vals):
        result = super().write(vals)
        if "logistics_ship_apart" in vals:
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        apart = any(self.mapped("logistics_ship_apart"))
        result = super().unlink()
        if apart:
            self.env.registry.clear_cache()
        return result


class SaleOrder(models.Model):
    _inherit = "sale.order"

    logistics_allocation_data = fields.Json(string="Allocation Decision", copy=False, readonly=True)
    logistics_allocated_at = fields.Datetime(string="Allocated At", copy=False, readonly=True)
    logistics_split = fields.Boolean(
        string="Split", copy=False, readonly=True, help="The order ships in several deliveries."
    )
    logistics_allocation_short = fields.Boolean(
        string="Stock Short", copy=False, readonly=True,
        help="No warehouse had every item when the order was allocated: the rest waits for stock.",
    )
    logistics_allocation_explanation = fields.Html(
        string="Allocation Explanation", compute="_compute_logistics_allocation_explanation", sanitize=False
    )
    logistics_merged_picking_ids = fields.Many2many(
        "stock.picking", string="Merged Deliveries", compute="_compute_logistics_merged_picking_ids",
        help="Deliveries of other orders that carry this order's goods after a merge.",
    )
    logistics_merged_picking_count = fields.Integer(compute="_compute_logistics_merged_picking_ids")

    @api.depends("shop_id", "partner_shipping_id")
    def _compute_warehouse_id(self):
        """A new order of a shop that ships from several warehouses starts in the nearest one by region (the
        priority table, else the cheapest): its delivery is then usually right from the start, and the
        allocation at approval only corrects it for stock, capacity or a split."""
        super()._compute_warehouse_id()
        drafts = self.filtered(
            lambda order: order.state in ("draft", "sent") and order.shop_id.allocation_warehouse_ids
        )
        if not drafts:
            return
        divisions = load_divisions()
        for company in drafts.company_id:
            batch = drafts.filtered(lambda order: order.company_id == company)
            allocator = engine_allocation.WarehouseAllocator(
                self.env["sale.order"]._logistics_engine_warehouses(company),
                self.env["logistics.warehouse.priority"]._engine_priorities(company, divisions),
            )
            for order in batch:
                try:
                    area = order._logistics_destination_area(divisions)
                except AreaNotResolved:
                    continue
                ranked, _why = allocator.ranked(area)
                nearest = next((warehouse for warehouse in ranked if warehouse.serves(order.shop_id.name)), None)
                if nearest:
                    order.warehouse_id = nearest.key

    @api.depends("logistics_allocation_data")
    @api.depends_context("lang")
    def _compute_logistics_allocation_explanation(self):
        lang = self.env.lang or "en_US"
        for order in self:
            order.logistics_allocation_explanation = allocation_html(order.logistics_allocation_data, lang, self.env)

    @api.depends("order_line.move_ids.picking_id")
    def _compute_logistics_merged_picking_ids(self):
        for order in self:
            merged = order.order_line.move_ids.picking_id.filtered(lambda picking: picking.sale_id != order)
            order.logistics_merged_picking_ids = merged
            order.logistics_merged_picking_count = len(merged)

    def action_logistics_open_merged_pickings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock.action_picking_tree_all")
        action["domain"] = [("id", "in", self.logistics_merged_picking_ids.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ engine data

    @api.model
    def _logistics_engine_warehouses(self, company):
        """The company's warehouses with their daily capacity, deliveries allocated today (not counting the
        orders in ``self``), cost, and the shops they ship for (``logistics.shop._logistics_ships_from``)."""
        warehouses = self.env["stock.warehouse"].search([("company_id", "=", company.id)])
        shops = self.env["logistics.shop"].with_context(active_test=False).search([("company_id", "=", company.id)])
        today = fields.Date.context_today(self)
        excluded = self if self._name == "sale.order" and self.ids else None
        allocated = warehouses._logistics_allocated_counts(today, excluded_orders=excluded)
        result = []
        for warehouse in warehouses:
            served = shops.filtered(lambda shop: shop._logistics_ships_from(warehouse))
            result.append(
                engine_orders.Warehouse(
                    key=warehouse.id,
                    name=warehouse.name,
                    daily_capacity=warehouse.logistics_daily_capacity or None,
                    shipped_today=allocated.get(warehouse.id, 0),
                    cost=decimal(warehouse.logistics_delivery_cost),
                    shops=frozenset(served.mapped("name")) or frozenset({""}),
                )
            )
        return tuple(result)

    def _logistics_allocation_orders(self, divisions):
        """(engine orders with the ship-apart tags on their lines, {order id: Area}, {order id: message data}
        for the destinations that do not resolve)."""
        apart = self.env["product.tag"].browse(self.env["product.tag"]._logistics_ship_apart_tag_ids())
        tags_of = {}
        for product in self.order_line.product_id:
            tags_of[product.id] = frozenset(tag.name for tag in apart & product.all_product_tag_ids)
        result, areas, unresolved = [], {}, {}
        for order in self:
            engine_order = order._logistics_allocation_order(tags_of)
            try:
                areas[order.id] = order._logistics_destination_area(divisions)
            except AreaNotResolved as error:
                unresolved[order.id] = error.message.to_data()
                continue
            result.append(engine_order)
        return result, areas, unresolved

    def _logistics_allocation_order(self, tags_of):
        """The ``engines.orders.Order`` the allocation needs: the shop and the lines with their ship-apart tags
        (the destination is given apart, as an Area)."""
        self.ensure_one()
        lines = []
        for line in self.order_line:
            product = line.product_id
            if line.display_type or not product or product.type != "consu":
                continue
            lines.append(engine_orders.OrderLine(
                key=line.id, product=product.id, quantity=decimal(line.product_uom_qty),
                amount=decimal(line.price_total), sku=product.default_code or product.display_name,
                unit_weight_kg=decimal(product.weight), unit_volume_cm3=decimal(product.volume) * 1000000,
                category=product.categ_id.name or "", tags=tags_of.get(product.id, frozenset()), order_key=self.id,
            ))
        return engine_orders.Order(
            key=self.id, name=self.name, shop=self.shop_id.name or "", platform=self.platform or "",
            buyer=self.buyer_nick or str(self.partner_id.id), receiver="", mobile="",
            address=engine_orders.Address("", ""), lines=tuple(lines), amount_total=decimal(self.amount_total),
        )

    def _logistics_destination_area(self, divisions):
        self.ensure_one()
        if self.logistics_area_code:
            try:
                return divisions.area_of(self.logistics_area_code)
            except KeyError:
                pass
        address = partner_address(divisions, self.partner_shipping_id or self.partner_id)
        return divisions.resolve(address.province, address.city, address.district)

    # ------------------------------------------------------------------ allocation

    def _logistics_allocate(self):
        """Allocate the shop orders to warehouses and make their deliveries accordingly. Returns
        ``{order id: stored decision}``."""
        orders = self.filtered(lambda order: order.shop_id and order.state != "cancel").sorted(
            lambda order: (order.paid_at or order.date_order, order.id)
        )
        if not orders:
            return {}
        divisions = load_divisions()
        decisions = {}
        apart_tags = self.env["product.tag"].browse(self.env["product.tag"]._logistics_ship_apart_tag_ids())
        separate = tuple(apart_tags.mapped("name"))
        for company in orders.company_id:
            batch = orders.filtered(lambda order: order.company_id == company)
            allocator, stock = batch._logistics_allocator(company, divisions)
            engine_batch, areas, unresolved = batch._logistics_allocation_orders(divisions)
            plans = {}
            for engine_order, allocation in zip(engine_batch, allocator.allocate(engine_batch, areas, stock)):
                plans[engine_order.key] = completed_plan(engine_order, allocation, allocator, areas, separate)
            decisions.update(batch._logistics_apply_allocation(plans, unresolved, apart_tags))
        return decisions

    def _logistics_apply_allocation(self, plans, unresolved, apart_tags):
        """Make the deliveries of the plans ``{order id: (engine order, allocation, split plan or None)}``."""
        tag_ids = {tag.name: tag.id for tag in apart_tags}
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        names = {warehouse.id: warehouse.name for warehouse in self.env["stock.warehouse"].search([])}
        outcomes = {}
        to_replan = self.browse()
        for order in self:
            if order.id in unresolved:
                outcomes[order.id] = (NOT_ALLOCATED, [unresolved[order.id]])
                continue
            _engine_order, _allocation, plan = plans[order.id]
            if plan is None:
                outcomes[order.id] = (NOT_ALLOCATED, [lazy_text.encode(
                    _lt("No warehouse ships for shop %(shop)s: add one to its Ships From.", shop=order.shop_id.name))])
                continue
            target = plan_quantities(plan, tag_ids)
            primary = self.env["stock.warehouse"].browse(plan.deliveries[0].warehouse)
            if order.state in ("draft", "sent"):
                order._logistics_set_warehouse(primary)
                outcomes[order.id] = (PLANNED, [lazy_text.encode(
                    _lt("The order ships from %(warehouse)s once confirmed.", warehouse=primary.name))])
            elif order._logistics_current_quantities() == target:
                outcomes[order.id] = (KEPT, [])
                order._logistics_set_warehouse(primary)
            elif not order._logistics_replannable():
                started = order.picking_ids.filtered(lambda picking: picking.state != "cancel")
                outcomes[order.id] = (IN_PROGRESS, [lazy_text.encode(
                    _lt("Its deliveries are already under way (%(deliveries)s): they were left as they are.",
                        deliveries=", ".join(started.mapped("name"))))])
            else:
                to_replan |= order
        replaced = to_replan._logistics_replan(plans, tag_ids)
        for order in to_replan:
            order._logistics_set_warehouse(self.env["stock.warehouse"].browse(plans[order.id][2].deliveries[0].warehouse))
            old, new = replaced[order.id]
            outcomes[order.id] = (REPLANNED, [lazy_text.encode(
                _lt("Deliveries %(old)s cancelled and made again from the allocated warehouses: %(new)s.",
                    old=", ".join(old), new=", ".join(new)))])
        allocated = self.filtered(lambda order: outcomes[order.id][0] in (KEPT, REPLANNED))
        allocated.picking_ids.filtered(
            lambda picking: picking.state != "cancel" and picking.picking_type_code == "outgoing"
        ).write({"logistics_allocation_date": today})
        decisions = {}
        flagged = defaultdict(lambda: self.browse())
        for order in self:
            outcome, notes = outcomes[order.id]
            data = allocation_data(plans.get(order.id), outcome, notes, names)
            decisions[order.id] = data
            _engine_order, allocation, plan = plans.get(order.id, (None, None, None))
            order.logistics_allocation_data = data
            short = bool(allocation and allocation.shortages) or outcome == NOT_ALLOCATED
            flagged[(bool(plan and plan.split), short)] |= order
        # what many orders share is written once for all of them
        for (split, short), orders in flagged.items():
            orders.write({"logistics_allocated_at": now, "logistics_split": split, "logistics_allocation_short": short})
        return decisions

    def _logistics_set_warehouse(self, warehouse):
        """The order's warehouse is where it ships from (the first, nearest, when split)."""
        self.ensure_one()
        if self.warehouse_id != warehouse:
            self.warehouse_id = warehouse

    def _logistics_current_quantities(self):
        """{(warehouse id, ship-apart tag id, sale line id): quantity in the line's unit} of the open outgoing
        moves of the order."""
        self.ensure_one()
        quantities = defaultdict(float)
        for line in self.order_line:
            for move in line.move_ids:
                if move.state in ("done", "cancel") or move.picking_code != "outgoing":
                    continue
                key = (move.picking_type_id.warehouse_id.id, move.logistics_ship_apart_tag_id.id or False, line.id)
                quantities[key] += move.product_uom._compute_quantity(move.product_uom_qty, line.product_uom)
        return rounded(quantities)

    def _logistics_replannable(self):
        """True when no delivery of the order started and none was merged with another order's."""
        self.ensure_one()
        moves = self.order_line.move_ids
        if not self.procurement_group_id or any(move.state == "done" for move in moves):
            return False
        pickings = (moves.picking_id | self.picking_ids).filtered(lambda picking: picking.state != "cancel")
        if any(picking.sale_id != self or picking.move_ids.sale_line_id.order_id - self for picking in pickings):
            return False
        return all(picking._logistics_is_open() for picking in pickings)

    def _logistics_replan(self, plans, tag_ids):
        """Cancel the open deliveries of the orders and procure their plans. ``{order id: (old names, new names)}``."""
        if not self:
            return {}
        old_pickings = self.picking_ids.filtered(lambda picking: picking.state not in ("done", "cancel"))
        old_names = defaultdict(list)
        for picking in old_pickings:
            old_names[picking.sale_id.id].append(picking.name)
        old_pickings.action_cancel()
        procurements = []
        warehouses = self.env["stock.warehouse"]
        for order in self:
            lines = {line.id: line for line in order.order_line}
            group = order.procurement_group_id
            origin = f"{order.name} - {order.client_order_ref}" if order.client_order_ref else order.name
            for delivery in plans[order.id][2].deliveries:
                warehouse = warehouses.browse(delivery.warehouse)
                tag = tag_ids.get(delivery.shipping_class, False)
                for delivery_line in delivery.lines:
                    line = lines[delivery_line.line_key].with_company(order.company_id)
                    values = line._prepare_procurement_values(group_id=group)
                    values.update(warehouse_id=warehouse, logistics_ship_apart_tag_id=tag)
                    quantity, uom = line.product_uom._adjust_uom_quantities(
                        float(delivery_line.quantity), line.product_id.uom_id
                    )
                    procurements += line._create_procurements(quantity, uom, origin, values)
        if procurements:
            self.env["procurement.group"].run(procurements)
        new_pickings = self.picking_ids.filtered(lambda picking: picking.state not in ("done", "cancel"))
        # as sale_stock does after procuring: confirming the pickings triggers the scheduler
        new_pickings.filtered(lambda picking: picking.state == "draft").action_confirm()
        return {
            order.id: (old_names[order.id], new_pickings.filtered(lambda p: p.sale_id == order).sorted("id").mapped("name"))
            for order in self
        }

    # ------------------------------------------------------------------ triggers

    def action_logistics_approve(self):
        """Approving allocates the orders to their warehouses first, then proposes (or makes) merges."""
        self._check_audit_transition("approved")
        shop_orders = self.filtered(lambda order: order.shop_id and order.state != "cancel")
        shop_orders._logistics_allocate()
        result = super().action_logistics_approve()
        shop_orders._logistics_propose_merges()
        return result

    def action_logistics_allocate(self):
        """Allocate Again: the approved orders are allocated again with today's stock and capacity."""
        orders = self.filtered(
            lambda order: order.shop_id and order.audit_state == "approved" and order.state != "cancel"
        )
        if not orders:
            raise UserError(self.env._("Select approved shop orders to allocate."))
        orders._logistics_allocate()
        orders._logistics_propose_merges()
        return True

    def _action_confirm(self):
        # shop orders confirmed before their audit (paid orders imported) get their deliveries from the
        # warehouse the allocation would choose now: the allocation at approval then rarely has to move them
        self.filtered(lambda order: not order.logistics_allocated_at)._logistics_preallocate()
        result = super()._action_confirm()
        # orders allocated before their confirmation: their deliveries now follow the plan (a split)
        self.filtered(
            lambda order: order.shop_id and order.audit_state == "approved" and order.logistics_allocated_at
        )._logistics_allocate()
        return result

    def _logistics_preallocate(self):
        """Set the warehouse of orders being confirmed (no delivery yet) to the first one the allocation picks with
        today's stock and capacity (nothing is stored: the allocation at approval decides and explains)."""
        orders = self.filtered(
            lambda order: order.shop_id.allocation_warehouse_ids
            and not order.picking_ids.filtered(lambda picking: picking.state != "cancel")
        )
        if not orders:
            return
        divisions = load_divisions()
        for company in orders.company_id:
            batch = orders.filtered(lambda order: order.company_id == company)
            allocator, stock = batch._logistics_allocator(company, divisions)
            engine_batch, areas, _unresolved = batch._logistics_allocation_orders(divisions)
            for engine_order, allocation in zip(engine_batch, allocator.allocate(engine_batch, areas, stock)):
                if allocation.parts:
                    self.browse(engine_order.key)._logistics_set_warehouse(
                        self.env["stock.warehouse"].browse(allocation.parts[0].warehouse)
                    )

    def _logistics_allocator(self, company, divisions):
        """(``WarehouseAllocator`` of the company, ``StockBook`` for the products of the orders)."""
        engine_warehouses = self._logistics_engine_warehouses(company)
        warehouses = self.env["stock.warehouse"].browse([warehouse.key for warehouse in engine_warehouses])
        stock = self._logistics_engine_stock(warehouses)
        for product in self.order_line.product_id.filtered(lambda product: not product.is_storable):
            for warehouse in warehouses:
                stock.quantities[(warehouse.id, product.id)] = UNTRACKED_STOCK
        priorities = self.env["logistics.warehouse.priority"]._engine_priorities(company, divisions)
        return engine_allocation.WarehouseAllocator(engine_warehouses, priorities), stock

    def _logistics_propose_merges(self):
        pickings = self.picking_ids.filtered(
            lambda picking: picking.picking_type_code == "outgoing" and picking.state not in ("done", "cancel")
        )
        return self.env["logistics.merge.proposal"]._logistics_propose(pickings)


def completed_plan(order, allocation, allocator, areas, separate):
    """(order, allocation, ``merge_split.SplitPlan``): what no warehouse has waits in the nearest warehouse that
    ships for the shop (the first allocated one, if any), so that the deliveries carry every ordered item.
    The split plan is None when no warehouse ships for the shop."""
    parts = list(allocation.parts)
    if allocation.shortages:
        if parts:
            waiting = parts[0].warehouse
        else:
            ranked, _why = allocator.ranked(areas[order.key])
            serving = [warehouse for warehouse in ranked if warehouse.serves(order.shop)]
            if not serving:
                return order, allocation, None
            waiting = serving[0].key
        index = next((i for i, part in enumerate(parts) if part.warehouse == waiting), None)
        extra = dict(allocation.shortages)
        if index is None:
            parts.append(engine_allocation.AllocationPart(waiting, tuple(extra.items())))
        else:
            lines = dict(parts[index].lines)
            for key, quantity in extra.items():
                lines[key] = lines.get(key, 0) + quantity
            parts[index] = engine_allocation.AllocationPart(waiting, tuple(lines.items()))
    if not parts:
        return order, allocation, None
    complete = engine_allocation.Allocation(order.key, parts=parts)
    return order, allocation, merge_split.split_order(order, complete, separate)


def plan_quantities(plan, tag_ids):
    quantities = defaultdict(float)
    for delivery in plan.deliveries:
        tag = tag_ids.get(delivery.shipping_class, False)
        for line in delivery.lines:
            quantities[(delivery.warehouse, tag, line.line_key)] += float(line.quantity)
    return rounded(quantities)


def rounded(quantities):
    return {key: round(quantity, 6) for key, quantity in quantities.items() if float_compare(quantity, 0, 6) > 0}


def allocation_data(plan, outcome, notes, warehouse_names):
    """The stored decision: the allocation's explanation, the deliveries (warehouse, ship-apart tag, items with
    quantity and amount) and what was done (``outcome`` and its notes, message data)."""
    data = {"outcome": outcome, "explanation": [], "deliveries": [], "notes": notes}
    if plan is None:
        return data
    order, allocation, split_plan = plan
    # which warehouses a shop ships from is its configuration, not news for the clerk
    data["explanation"] = [message.to_data() for message in allocation.explanation if message.code not in QUIET]
    data["shortages"] = [[key, format(quantity, "f")] for key, quantity in allocation.shortages]
    if split_plan is None:
        return data
    data["explanation"] += [message.to_data() for message in split_plan.explanation]
    labels = {line.key: line.label for line in order.lines}
    data["deliveries"] = [
        {
            "warehouse": delivery.warehouse,
            "warehouse_name": warehouse_names.get(delivery.warehouse, str(delivery.warehouse)),
            "ships_apart": delivery.shipping_class,
            "lines": [[line.line_key, labels[line.line_key], format(line.quantity, "f"), merge_split.money(line.amount)]
                      for line in delivery.lines],
            "value": merge_split.money(delivery.value),
        }
        for delivery in split_plan.deliveries
    ]
    return data


def allocation_html(data, lang, env):
    """The allocation explanation in ``lang``: why these warehouses, the deliveries and what was done."""
    if not data:
        return False
    parts = []
    messages = list(data.get("explanation") or []) + list(data.get("notes") or [])
    if messages:
        items = Markup("").join(Markup("<li>%s</li>") % lazy_text.render(message, lang) for message in messages)
        parts.append(Markup("<ul>%s</ul>") % items)
    deliveries = data.get("deliveries") or []
    if deliveries:
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td class='text-end'>%s</td></tr>") % (
                delivery["warehouse_name"],
                delivery["ships_apart"] or "",
                ", ".join(f"{label} ×{quantity}" for _key, label, quantity, _amount in delivery["lines"]),
                delivery["value"],
            )
            for delivery in deliveries
        )
        header = Markup("<tr><th>%s</th><th>%s</th><th>%s</th><th class='text-end'>%s</th></tr>") % (
            env._("Warehouse"), env._("Ships Apart"), env._("Items"), env._("Value"))
        parts.append(Markup("<table class='table table-sm o_logistics_allocation'><thead>%s</thead><tbody>%s</tbody></table>")
                     % (header, rows))
    return Markup("").join(parts)
