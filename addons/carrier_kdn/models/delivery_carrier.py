from odoo import fields, models
from odoo.exceptions import UserError


class DeliveryCarrier(models.Model):
    _inherit = "delivery.carrier"

    delivery_type = fields.Selection(selection_add=[("kdniao", "KDNiao")], ondelete={"kdniao": "set default"})
    kdniao_return_template = fields.Boolean(
        string="Fetch Print Template", default=True, help="Ask KDNiao for the label HTML with each waybill."
    )
    kdniao_predict_delivery = fields.Boolean(
        string="Predict Delivery Date", default=True, help="Ask KDNiao's time prediction for an expected date."
    )

    def kdniao_rate_shipment(self, order):
        # KDNiao sells waybills, not prices: the rate is the carrier's price until rate cards price it.
        price = self.product_id.list_price
        if order.currency_id != order.company_id.currency_id:
            price = order.company_id.currency_id._convert(price, order.currency_id, order.company_id, order.date_order)
        return {"success": True, "price": price, "error_message": False, "warning_message": False}

    def kdniao_send_shipping(self, pickings):
        results = []
        for picking in pickings:
            picking._kdniao_issue_waybill()
            results.append({"exact_price": self.product_id.list_price, "tracking_number": picking.waybill_number})
        return results

    def kdniao_get_tracking_link(self, picking):
        if self.tracking_url and picking.waybill_number:
            return self.tracking_url.replace("<shipmenttrackingnumber>", picking.waybill_number)
        return False

    def kdniao_cancel_shipment(self, pickings):
        for picking in pickings:
            picking._kdniao_cancel_waybill()

    def _kdniao_get_default_custom_package_code(self):
        return False

    def _kdniao_account_for(self, picking):
        """The express-company account that ships ``picking``: its own, else one of this carrier for its warehouse."""
        self.ensure_one()
        if picking.carrier_account_id:
            return picking.carrier_account_id
        warehouse = picking.picking_type_id.warehouse_id
        accounts = self.env["logistics.carrier.account"].search(
            [("carrier_id", "=", self.id), ("kdniao_account_id", "!=", False), ("company_id", "=", picking.company_id.id)]
        )
        account = accounts.filtered(lambda a: warehouse in a.warehouse_ids)[:1] or accounts.filtered(
            lambda a: not a.warehouse_ids
        )[:1]
        if not account:
            raise UserError(
                self.env._(
                    "Shipping method %(carrier)s has no KDNiao carrier account for warehouse %(warehouse)s.",
                    carrier=self.display_name,
                    warehouse=warehouse.display_name,
                )
            )
        return account
