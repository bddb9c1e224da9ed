import logging
from decimal import Decimal

from psycopg2 import IntegrityError, OperationalError

from odoo import Command, api, fields, models
from odoo.osv import expression
from odoo.tools.translate import LazyTranslate

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

CANCELLED_STATUSES = ("cancelled", "closed", "refunding")
# A receiver's contact is reused when these are the same.
PARTNER_KEY = ("name", "mobile", "street", "city")
CARRIER_STATES = ("handed_over", "in_transit", "out_for_delivery", "delivered", "exception", "returned")


class SaleOrder(models.Model):
    _inherit = "sale.order"

    platform_modified_at = fields.Datetime(string="Platform Modified At", copy=False, readonly=True)
    platform_raw = fields.Json(string="Platform Payload", copy=False, readonly=True)
    platform_receiver_protected = fields.Boolean(
        string="Receiver Encrypted",
        copy=False,
        readonly=True,
        help="The platform gave the receiver encrypted or masked; it is decrypted by the platform when needed.",
    )
    platform_confirm_pending = fields.Boolean(
        string="Confirmation Queued",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Received by a push and waiting for the confirmation job (it creates the delivery).",
    )
    platform_after_sales = fields.Boolean(
        string="After-sales", copy=False, tracking=True, help="Cancelled or refunded on the platform after shipping."
    )

    # ------------------------------------------------------------------ upsert

    @api.model
    def _platform_upsert(self, shop, canonical):
        """Create or update the sale order of one canonical platform order. Returns ``(order, outcome)`` with
        outcome ``created``, ``updated`` or ``skipped`` (a duplicate or an older version than Odoo has)."""
        order = self._platform_find(shop, canonical.platform_order_id)
        if not order:
            # The lines are created with the order (one create, amounts computed once).
            commands, unmapped = self._platform_line_commands(shop, canonical)
            try:
                with self.env.cr.savepoint():
                    order = self.create({**self._platform_order_values(shop, canonical), "order_line": commands})
            except IntegrityError:
                # Created meanwhile by the other way in (push vs pull): update that one.
                order = self._platform_find(shop, canonical.platform_order_id)
            else:
                order._platform_hold_unmapped(unmapped)
                order._platform_apply_status(canonical)
                return order, "created"
        if order.platform_modified_at and canonical.modified_at and canonical.modified_at <= order.platform_modified_at:
            return order, "skipped"
        order.write(order._platform_update_values(canonical))
        if order.state == "draft" and order.active_hold_ids.filtered(lambda hold: hold.reason == "sku"):
            order._platform_set_lines(canonical)
        order._platform_apply_status(canonical)
        return order, "updated"

    @api.model
    def _platform_create_batch(self, shop, canonical_orders):
        """Create the sale orders of platform orders not in Odoo yet, all at once: what ``_platform_upsert`` does
        for each of them (partner, lines, holds, confirmation), with one partner look-up, one create and one
        confirmation for the batch. The caller keeps the batch in a savepoint and falls back to
        ``_platform_upsert`` order by order when anything fails."""
        resolved = {}
        lines = [self._platform_line_commands(shop, canonical, resolved) for canonical in canonical_orders]
        partners = self.env["res.partner"]._platform_partners(
            [(canonical.receiver, canonical.buyer_nick) for canonical in canonical_orders]
        )
        orders = self.create(
            [
                {**self._platform_order_values(shop, canonical, partner), "order_line": commands}
                for canonical, partner, (commands, _unmapped) in zip(canonical_orders, partners, lines)
            ]
        )
        for order, (_commands, unmapped) in zip(orders, lines):
            order._platform_hold_unmapped(unmapped)
        to_confirm = self.browse()
        for order, canonical in zip(orders, canonical_orders):
            # The paid branch of _platform_apply_status, for the batch; a new order has no delivery to cancel or
            # to flag for after-sales, so the other branches stay order by order.
            if canonical.status == "paid" and order.state == "draft" and order._platform_may_confirm():
                to_confirm |= order
            else:
                order._platform_apply_status(canonical)
        to_confirm._platform_confirm()
        return orders

    @api.model
    def _platform_find(self, shop, platform_order_id):
        order = self.with_context(active_test=False).search(
            [("shop_id", "=", shop.id), ("platform_order_id", "=", platform_order_id)], limit=1
        )
        if order:
            # Push and pull of the same order wait for each other here instead of both writing.
            self.env.cr.execute("SELECT id FROM sale_order WHERE id = %s FOR UPDATE", (order.id,))
            order.invalidate_recordset()
        return order

    @api.model
    def _platform_order_values(self, shop, canonical, partner=None):
        if partner is None:
            partner = self.env["res.partner"]._platform_partner(canonical.receiver, canonical.buyer_nick)
        values = {
            "shop_id": shop.id,
            "company_id": shop.company_id.id,
            "platform_order_id": canonical.platform_order_id,
            "partner_id": partner.id,
            "date_order": canonical.created_at or fields.Datetime.now(),
        }
        values.update(self._platform_update_values(canonical))
        return values

    def _platform_update_values(self, canonical):
        return {
            "platform_status": canonical.platform_status,
            "buyer_nick": canonical.buyer_nick or False,
            "buyer_remark": canonical.buyer_remark or False,
            "seller_memo": canonical.seller_memo or False,
            "paid_at": canonical.paid_at or False,
            "platform_modified_at": canonical.modified_at or fields.Datetime.now(),
            "platform_raw": canonical.raw,
            "platform_receiver_protected": canonical.receiver.encrypted,
        }

    # ------------------------------------------------------------------ lines

    def _platform_set_lines(self, canonical):
        """Order lines from the platform lines through the SKU mappings; unmapped lines hold the order."""
        self.ensure_one()
        commands, unmapped = self._platform_line_commands(self.shop_id, canonical)
        self.order_line = [Command.clear(), *commands]
        self._platform_hold_unmapped(unmapped)

    @api.model
    def _platform_line_commands(self, shop, canonical, resolved=None):
        """``(commands, unmapped)``: sale line creations for the platform lines mapped to products (and the
        freight), and the platform lines nothing maps. ``resolved`` memoizes the SKU mappings over a batch."""
        mapping = self.env["logistics.sku.mapping"]
        resolved = {} if resolved is None else resolved
        commands, unmapped = [], []
        for line in canonical.lines:
            key = (line.platform_sku_id, line.merchant_code)
            if key not in resolved:
                resolved[key] = mapping._resolve(shop, line.platform_sku_id, line.merchant_code)
            products = resolved[key]
            if not products:
                unmapped.append(line)
                continue
            commands += _line_commands(line, products)
        if canonical.shipping_amount:
            freight = self.env.ref("platform_connectors.product_platform_freight")
            commands.append(
                Command.create({"product_id": freight.id, "product_uom_qty": 1, "price_unit": float(canonical.shipping_amount)})
            )
        return commands, unmapped

    def _platform_hold_unmapped(self, unmapped):
        """Hold the order for its unmapped platform lines, or release it from an SKU hold when none is left."""
        self.ensure_one()
        self.active_hold_ids.filtered(lambda hold: hold.reason == "sku")._resolve()
        if unmapped:
            lines = [
                _lt(
                    "%(title)s (SKU %(sku)s, merchant code %(code)s)",
                    title=line.title or "?",
                    sku=line.platform_sku_id or "-",
                    code=line.merchant_code or "-",
                )
                for line in unmapped
            ]
            self._logistics_hold("sku", _lt("No product mapped for %s", lines))
        elif self.audit_state == "on_hold" and not self.active_hold_ids:
            self.action_logistics_reaudit()

    def _platform_remap_lines(self):
        """Map held orders again from their stored payload (after a SKU mapping was added or fixed)."""
        for order in self:
            client = order.shop_id._platform_client()
            canonical = client.parse_order(order.platform_raw)
            order._platform_set_lines(canonical)
            order._platform_apply_status(canonical)

    # ------------------------------------------------------------------ life cycle

    def _platform_apply_status(self, canonical):
        self.ensure_one()
        if canonical.status in CANCELLED_STATUSES:
            self._platform_cancelled_on_platform(canonical)
        elif canonical.refund_active and self._platform_shipped():
            self.platform_after_sales = True
        elif canonical.status == "paid" and self.state == "draft" and self._platform_may_confirm():
            self._platform_confirm()

    def _platform_confirm(self):
        """Confirm now, or, for pushes (context ``platform_defer_confirm``), leave it to the confirmation job."""
        if not self:
            return
        if self.env.context.get("platform_defer_confirm"):
            self.platform_confirm_pending = True
        else:
            self.action_confirm()

    def _platform_confirm_deferred(self):
        """Confirm orders a push left waiting, in one go; when that fails, one by one, and an order that cannot be
        confirmed stays a quotation with the reason in its chatter."""
        to_confirm = self.filtered(lambda order: order.state == "draft" and order._platform_may_confirm())
        self.platform_confirm_pending = False
        try:
            with self.env.cr.savepoint():
                to_confirm.action_confirm()
            return
        except OperationalError:
            raise  # a concurrent update: the job is retried as a whole
        except Exception:  # noqa: BLE001 - found out order by order below
            _logger.info("Confirming %s pushed orders at once failed: one by one", len(to_confirm))
        for order in to_confirm:
            try:
                with self.env.cr.savepoint():
                    order.action_confirm()
            except OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - kept on the order for a person to act on
                order.message_post(
                    body=self.env._("The order could not be confirmed automatically: %s", error),
                    message_type="notification",
                )

    def _platform_may_confirm(self):
        shop = self.shop_id
        return shop.auto_confirm and not shop.sync_pilot and not self.active_hold_ids

    def _platform_cancelled_on_platform(self, canonical):
        if self._platform_shipped():
            self.platform_after_sales = True
            return
        if not self.active_hold_ids.filtered(lambda hold: hold.reason == "platform_cancel"):
            self._logistics_hold(
                "platform_cancel",
                _lt("Platform status %(status)s (%(raw)s)", status=canonical.status, raw=canonical.platform_status),
            )
        open_deliveries = self.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        for picking in open_deliveries.filtered("waybill_number"):
            if picking.carrier_id.delivery_type == "kdniao":
                picking.carrier_id.cancel_shipment(picking)
        open_deliveries.action_cancel()

    def _platform_shipped(self):
        deliveries = self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        return any(p.state == "done" or p.logistics_state in CARRIER_STATES for p in deliveries)


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _platform_partner(self, receiver, buyer_nick=""):
        """The delivery contact of a platform receiver, reused when name, phone and address are the same."""
        values = self._platform_partner_values(receiver, buyer_nick)
        domain = [(key, "=", values[key]) for key in PARTNER_KEY]
        return self.search(domain, limit=1) or self.create(values)

    @api.model
    def _platform_partners(self, receivers):
        """``_platform_partner`` for many ``(receiver, buyer_nick)`` at once (one search, one create): the list
        of their contacts, in the same order."""
        lookups = {}
        values_list = [self._platform_partner_values(receiver, nick, lookups) for receiver, nick in receivers]
        keys = [tuple(values[key] or False for key in PARTNER_KEY) for values in values_list]
        wanted = {}
        for key, values in zip(keys, values_list):
            wanted.setdefault(key, values)  # the first receiver of a contact gives its values, as one by one
        if not wanted:
            return []
        # What _platform_partner's search finds for each receiver: its first match in the model's order
        # (a False value matches NULL and '', as the domain does).
        domain = expression.OR([[(key, "=", value) for key, value in zip(PARTNER_KEY, k)] for k in wanted])
        found = {}
        for partner in self.search(domain):
            found.setdefault(tuple(partner[key] or False for key in PARTNER_KEY), partner)
        missing = [key for key in wanted if key not in found]
        found.update(zip(missing, self.create([wanted[key] for key in missing])))
        return [found[key] for key in keys]

    @api.model
    def _platform_partner_values(self, receiver, buyer_nick="", lookups=None):
        """The contact values of a platform receiver; ``lookups`` memoizes countries and states over a batch."""
        lookups = {} if lookups is None else lookups
        code = (receiver.country_code or "CN").upper()
        if code not in lookups:
            lookups[code] = self.env["res.country"].search([("code", "=", code)], limit=1)
        country = lookups[code]
        if (country, receiver.province) not in lookups:
            lookups[country, receiver.province] = self._platform_state(country, receiver.province)
        state = lookups[country, receiver.province]
        street = "".join(part for part in (receiver.district, receiver.street) if part)
        return {
            "name": receiver.name or buyer_nick or self.env._("Platform buyer"),
            "mobile": receiver.mobile or False,
            "phone": receiver.phone or False,
            "street": street or False,
            "city": receiver.city or False,
            "zip": receiver.zip or False,
            "state_id": state.id,
            "country_id": country.id,
        }

    @api.model
    def _platform_state(self, country, province):
        if not (country and province):
            return self.env["res.country.state"]
        states = self.env["res.country.state"].search([("country_id", "=", country.id)])
        short = province.rstrip("省市").replace("自治区", "")
        return states.filtered(lambda s: s.name == province)[:1] or states.filtered(
            lambda s: s.name.startswith(short) or s.code == province
        )[:1]


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    platform_line_id = fields.Char(string="Platform Line ID", copy=False)
    platform_sku_id = fields.Char(string="Platform SKU ID", copy=False)


def _line_commands(line, products):
    """Sale lines for one platform line; a combo's amount is shared by list price so the total stays exact."""
    weights = [Decimal(str(product.list_price or 1)) * Decimal(str(qty)) for product, qty in products]
    total_weight = sum(weights) or Decimal(1)
    amount = Decimal(line.amount or line.unit_price * line.quantity)
    remaining = amount
    commands = []
    for index, ((product, qty), weight) in enumerate(zip(products, weights)):
        share = remaining if index == len(products) - 1 else (amount * weight / total_weight).quantize(Decimal("0.01"))
        remaining -= share
        quantity = qty * line.quantity
        commands.append(
            Command.create(
                {
                    "product_id": product.id,
                    "name": line.title or product.display_name,
                    "product_uom_qty": quantity,
                    "price_unit": float(share) / quantity if quantity else 0.0,
                    "platform_line_id": line.platform_line_id or False,
                    "platform_sku_id": line.platform_sku_id or False,
                }
            )
        )
    return commands
