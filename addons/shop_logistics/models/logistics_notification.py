from odoo import fields, models

NOTIFICATION_EVENTS = [
    ("shipped", "Shipped"),
    ("out_for_delivery", "Out for Delivery"),
    ("exception", "Exception"),
    ("delivered", "Delivered"),
]
CHANNELS = [("email", "Email"), ("sms", "SMS")]


class LogisticsNotification(models.Model):
    """One buyer notification of a delivery: what was sent (or why not), so that nothing goes twice."""

    _name = "logistics.notification"
    _description = "Buyer Notification"
    _order = "create_date desc, id desc"
    _rec_name = "event"

    picking_id = fields.Many2one("stock.picking", string="Delivery", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="picking_id.company_id", store=True, index=True)
    shop_id = fields.Many2one(related="picking_id.shop_id", store=True)
    event = fields.Selection(NOTIFICATION_EVENTS, required=True)
    channel = fields.Selection(CHANNELS, required=True)
    ref = fields.Char(
        string="Event Reference",
        required=True,
        default="",
        help="What distinguishes two notifications of the same kind (the exception ticket).",
    )
    ticket_id = fields.Many2one("logistics.ticket", string="Ticket", ondelete="set null")
    state = fields.Selection(
        [("sent", "Sent"), ("skipped", "Not Sent"), ("failed", "Failed")], required=True, default="sent"
    )
    note = fields.Char(help="Why the notification was not sent.")
    mail_id = fields.Many2one("mail.mail", string="Email", ondelete="set null", readonly=True)
    message_id = fields.Many2one("mail.message", string="Message", ondelete="set null", readonly=True)

    _sql_constraints = [
        (
            "picking_event_channel_uniq",
            "unique(picking_id, event, channel, ref)",
            "This notification was already sent for this delivery.",
        ),
    ]
