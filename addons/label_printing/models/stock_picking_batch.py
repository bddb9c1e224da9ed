from odoo import models
from odoo.exceptions import UserError


class StockPickingBatch(models.Model):
    _inherit = "stock.picking.batch"

    def action_print_labels(self):
        """Print the labels of the batches' deliveries, as Print Labels does on the deliveries themselves."""
        return self._label_deliveries()._print_labels(
            reprint=self.env.context.get("label_reprint", False), picking_batches=self
        )

    def action_reprint_labels(self):
        return self._label_deliveries()._print_labels(reprint=True, picking_batches=self)

    def _label_deliveries(self):
        deliveries = self.picking_ids.filtered(lambda picking: picking.picking_type_code == "outgoing")
        if not deliveries:
            raise UserError(
                self.env._("%s has no delivery to print a label for.", ", ".join(self.mapped("display_name")))
            )
        return deliveries
