from odoo import fields, models

from .. import order_files


class LogisticsPlatformInbox(models.Model):
    """Every order payload a platform sent, kept as received before it is turned into a sale order.

    Nothing a platform sends is lost: a payload that cannot be processed stays here with its error and is
    processed again by the retry button or the next sync.
    """

    _name = "logistics.platform.inbox"
    _description = "Platform Order Payload"
    _order = "received_at desc, id desc"

    shop_id = fields.Many2one("logistics.shop", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="shop_id.company_id", store=True)
    platform_order_id = fields.Char(string="Platform Order ID", index=True)
    source = fields.Selection(
        [("pull", "Scheduled Pull"), ("push", "Webhook Push"), ("import", "File Import")], required=True
    )
    received_at = fields.Datetime(required=True, default=fields.Datetime.now)
    payload = fields.Json(required=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("error", "Error")], required=True, default="pending", index=True
    )
    error = fields.Text()
    order_id = fields.Many2one("sale.order", string="Sale Order", ondelete="set null")

    def action_retry(self):
        self.shop_id.ensure_one()
        for message in self.filtered(lambda m: m.state != "done"):
            message.shop_id._platform_process_payloads(message, [message._parse_payload()])
        return True

    def _parse_payload(self):
        """The canonical order of the payload: rows of an imported file, or what the platform's client reads."""
        self.ensure_one()
        if order_files.is_file_payload(self.payload):
            return order_files.order_from_payload(self.payload)
        return self.shop_id._platform_client().parse_order(self.payload)
