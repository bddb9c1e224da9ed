"""Order audit: the sale orders of a batch fed to ``engines.audit`` and its decisions written back."""

import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engines import audit, orders as engine_orders
from ..engines.cn_regions import AreaNotResolved, clean, load_divisions

_logger = logging.getLogger(__name__)

AUDIT_BATCH = 200
ZERO = Decimal(0)


def decimal(value):
    """A float field's value as Decimal without float noise: 60.0 → 60, 0.25 → 0.25."""
    number = Decimal(str(value or 0))
    return number.to_integral_value() if number == number.to_integral_value() else number.normalize()


def split_district(divisions, province, city, street):
    """(district, rest of the street): the shop connectors keep the district at the start of the street
    (朝阳区建国路88号); a city field that already names the county, or no known district, gives ("", street)."""
    street = clean(street)
    try:
        province_division = divisions._resolve_province(clean(province))
        city_division, county = divisions._resolve_city(province_division, clean(city))
    except AreaNotResolved:
        return "", street
    index = divisions.by_parent.get(city_division.code)
    if county is not None or index is None:
        return "", street
    for length in range(min(len(street), 12), 1, -1):
        if index.find(street[:length]):
            return street[:length], street[length:]
    return "", street


def partner_address(divisions, partner):
    """The ``engines.orders.Address`` of a contact (province: its state, city, district from the street)."""
    province = partner.state_id.name or ""
    city = partner.city or ""
    street = " ".join(filter(None, [partner.street, partner.street2]))
    district, rest = split_district(divisions, province, city, street)
    return engine_orders.Address(province, city, district, rest)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    logistics_area_code = fields.Char(
        string="Area Code", copy=False, readonly=True,
        help="Administrative code (adcode) of the destination, as the audit resolved it.",
    )
    logistics_area = fields.Char(string="Destination Area", copy=False, readonly=True)
    logistics_audit_data = fields.Json(string="Audit Decision", copy=False, readonly=True)
    logistics_audited_at = fields.Datetime(string="Audited At", copy=False, readonly=True)

    # ------------------------------------------------------------------ engine data

    def _logistics_engine_order(self, divisions):
        """The ``engines.orders.Order`` of this sale order."""
        self.ensure_one()
        partner = self.partner_shipping_id or self.partner_id
        lines = []
        for line in self.order_line:
            if line.display_type or not line.product_id or line.product_id.type != "consu":
                continue
            product = line.product_id
            lines.append(
                engine_orders.OrderLine(
                    key=line.id,
                    product=product.id,
                    quantity=decimal(line.product_uom_qty),
                    amount=decimal(line.price_total),
                    sku=product.default_code or product.display_name,
                    unit_weight_kg=decimal(product.weight),
                    unit_volume_cm3=decimal(product.volume) * 1000000,
                    category=product.categ_id.name or "",
                    order_key=self.id,
                )
            )
        remark = "\n".join(filter(None, [self.buyer_remark, self.seller_memo]))
        masked = bool(self._fields.get("platform_receiver_protected") and self["platform_receiver_protected"])
        return engine_orders.Order(
            key=self.id,
            name=self.name,
            shop=self.shop_id.name or "",
            platform=self.platform or "",
            buyer=self.buyer_nick or str(self.partner_id.id),
            receiver=partner.name or "",
            mobile=partner.mobile or partner.phone or "",
            address=partner_address(divisions, partner),
            lines=tuple(lines),
            paid_at=self.paid_at or self.date_order,
            amount_total=decimal(self.amount_total),
            remark=remark,
            remark_tags=frozenset(self.remark_tag_ids.mapped("code")),
            risk_flags=self._logistics_risk_flags(),
            contact_masked=masked,
        )

    def _logistics_risk_flags(self):
        """The platform's risk codes of the order; shop connectors that receive them override this."""
        self.ensure_one()
        return frozenset()

    @api.model
    def _logistics_engine_warehouses(self, company):
        """The company's warehouses as ``engines.orders.Warehouse``: a warehouse ships for the shops set on it
        and for the shops without a warehouse."""
        warehouses = self.env["stock.warehouse"].search([("company_id", "=", company.id)])
        shops = self.env["logistics.shop"].with_context(active_test=False).search([("company_id", "=", company.id)])
        result = []
        for warehouse in warehouses:
            served = shops.filtered(lambda shop: shop.warehouse_id in (warehouse, self.env["stock.warehouse"]))
            result.append(
                engine_orders.Warehouse(
                    key=warehouse.id, name=warehouse.name, shops=frozenset(served.mapped("name")) or frozenset({""})
                )
            )
        return tuple(result)

    def _logistics_engine_stock(self, warehouses):
        """Stock not reserved by other deliveries, per (warehouse id, product id), for the products of the
        orders; what these orders' own deliveries reserved counts as theirs."""
        products = self.order_line.product_id
        quantities = {}
        if not products:
            return engine_orders.StockBook(quantities)
        for location, product, quantity, reserved in self.env["stock.quant"]._read_group(
            [
                ("product_id", "in", products.ids),
                ("location_id.usage", "=", "internal"),
                ("location_id.warehouse_id", "in", warehouses.ids),
            ],
            ["location_id", "product_id"],
            ["quantity:sum", "reserved_quantity:sum"],
        ):
            key = (location.warehouse_id.id, product.id)
            quantities[key] = quantities.get(key, ZERO) + decimal(quantity) - decimal(reserved)
        own = self.env["stock.move.line"]._read_group(
            [("move_id.sale_line_id.order_id", "in", self.ids), ("state", "not in", ("done", "cancel")),
             ("location_id.usage", "=", "internal"), ("location_id.warehouse_id", "in", warehouses.ids)],
            ["location_id", "product_id"],
            ["quantity:sum"],
        )
        for location, product, quantity in own:
            key = (location.warehouse_id.id, product.id)
            quantities[key] = quantities.get(key, ZERO) + decimal(quantity)
        return engine_orders.StockBook(quantities)

    def _logistics_recent_orders(self, company, window, divisions):
        """The orders of the duplicate window (not in the batch) of the same buyers."""
        buyers = [buyer for buyer in self.mapped("buyer_nick") if buyer]
        partners = self.partner_id.ids
        since = fields.Datetime.now() - window
        domain = [
            ("company_id", "=", company.id),
            ("shop_id", "!=", False),
            ("id", "not in", self.ids),
            ("state", "!=", "cancel"),
            "|", ("paid_at", ">=", since), "&", ("paid_at", "=", False), ("date_order", ">=", since),
            "|", ("buyer_nick", "in", buyers), ("partner_id", "in", partners),
        ]
        recent = self.search(domain, limit=5000)
        return tuple(order._logistics_engine_order(divisions) for order in recent)

    # ------------------------------------------------------------------ audit

    def _logistics_audit(self):
        """Audit the orders with the company's audit rules: approve them or put them on hold with every reason
        found. Returns the ``engines.audit.AuditDecision`` list."""
        divisions = load_divisions()
        decisions = []
        orders = self.filtered(lambda order: order.shop_id and order.state != "cancel")
        for company in orders.company_id:
            batch = orders.filtered(lambda order: order.company_id == company)
            rule_records = self.env["logistics.audit.rule"].search([("company_id", "=", company.id)])
            rules = [record._engine_rule() for record in rule_records]
            windows = [rule.window for rule in rules if isinstance(rule, audit.DuplicateRule)]
            warehouses = batch._logistics_engine_warehouses(company)
            context = audit.AuditContext(
                divisions=divisions,
                stock=batch._logistics_engine_stock(self.env["stock.warehouse"].browse([w.key for w in warehouses])),
                warehouses=warehouses,
                recent_orders=batch._logistics_recent_orders(company, max(windows), divisions) if windows else (),
            )
            engine_orders_ = [order._logistics_engine_order(divisions) for order in batch]
            company_decisions = audit.AuditEngine(rules).audit(engine_orders_, context)
            batch._logistics_apply_audit(company_decisions)
            decisions.extend(company_decisions)
        return decisions

    def _logistics_apply_audit(self, decisions):
        now = fields.Datetime.now()
        by_id = {order.id: order for order in self}
        approved = self.browse()
        for decision in decisions:
            order = by_id[decision.order_key]
            area = decision.area
            order.write({
                "logistics_audit_data": decision.to_data(),
                "logistics_audited_at": now,
                "logistics_area_code": (area.codes[-1] if area else order.logistics_area_code) or False,
                "logistics_area": (area.label if area else order.logistics_area) or False,
            })
            if decision.approved:
                approved |= order
                continue
            for hold in decision.holds:
                # the message's data is what lazy_text stores: each reader sees it in their language
                order._logistics_hold(hold.reason, hold.message.to_data())
        approved.filtered(lambda order: order.audit_state != "approved").action_logistics_approve()

    def action_logistics_audit(self):
        """Audit Now: the selected orders to audit (large selections go to the job queue)."""
        orders = self.filtered(lambda order: order.shop_id and order.audit_state == "to_audit" and order.state != "cancel")
        if not orders:
            raise UserError(self.env._("Select shop orders to audit."))
        if len(orders) <= AUDIT_BATCH:
            orders._logistics_audit()
            return True
        for start in range(0, len(orders), AUDIT_BATCH):
            chunk = orders[start:start + AUDIT_BATCH]
            chunk.with_delay(channel="root", description=self.env._("Audit %s orders", len(chunk)))._logistics_audit_job()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("%s orders are being audited in the background.", len(orders)),
            },
        }

    def _logistics_audit_job(self):
        orders = self.filtered(lambda order: order.audit_state == "to_audit")
        orders._logistics_audit()
        return self.env._("%s orders audited.", len(orders))

    @api.model
    def _cron_logistics_audit(self, batch_size=AUDIT_BATCH):
        """Audit a batch of the shop orders waiting in To Audit, oldest payment first; the scheduler runs the
        action again at once (after a commit) while orders remain."""
        domain = self._logistics_domain("to_audit") + [("company_id.logistics_auto_audit", "=", True)]
        orders = self.search(domain, order="paid_at, id", limit=batch_size)
        orders._logistics_audit()
        # an order the audit could not move (no rule applies to it) must not make the scheduler loop
        stuck = orders.filtered(lambda order: order.audit_state == "to_audit")
        remaining = 0 if stuck else self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(orders), remaining=remaining)
