import time

from odoo import fields, models


class LogisticsSyncLog(models.Model):
    _name = "logistics.sync.log"
    _description = "Shop Sync Log"
    _order = "started_at desc, id desc"

    shop_id = fields.Many2one("logistics.shop", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="shop_id.company_id", store=True)
    platform = fields.Selection(related="shop_id.platform", store=True)
    operation = fields.Selection(
        [
            ("pull", "Scheduled Pull"),
            ("push", "Webhook Push"),
            ("ship_back", "Shipment Confirmation"),
            ("import", "File Import"),
        ],
        required=True,
    )
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "Partly Failed"), ("failed", "Failed")],
        required=True,
        default="running",
    )
    started_at = fields.Datetime(required=True, default=fields.Datetime.now)
    duration = fields.Float(string="Duration (s)", digits=(16, 3))
    window_start = fields.Datetime(help="Start of the platform's modified-time window that was pulled.")
    window_end = fields.Datetime(help="End of the platform's modified-time window that was pulled.")
    received_count = fields.Integer(string="Received")
    created_count = fields.Integer(string="Created")
    updated_count = fields.Integer(string="Updated")
    error_count = fields.Integer(string="Errors")
    error_message = fields.Text()

    def _close(self, state, started, totals, errors):
        """Finish a pull or message read: ``started`` is its time.monotonic(), ``totals`` its counts."""
        self.write(
            {
                "state": state,
                "duration": time.monotonic() - started,
                "received_count": totals["received"],
                "created_count": totals["created"],
                "updated_count": totals["updated"],
                "error_count": totals["errors"] + (state == "failed"),
                "error_message": "\n".join(errors) or False,
            }
        )
