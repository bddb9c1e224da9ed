from odoo import models

from .. import order_files


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _platform_remap_lines(self):
        """Orders imported from a file are read again from their stored rows: their shop has no platform client."""
        from_files = self.filtered(lambda order: order_files.is_file_payload(order.platform_raw))
        for order in from_files:
            canonical = order_files.order_from_payload(order.platform_raw)
            order._platform_set_lines(canonical)
            order._platform_apply_status(canonical)
        return super(SaleOrder, self - from_files)._platform_remap_lines()
