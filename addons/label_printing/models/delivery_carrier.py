from odoo import fields, models


class DeliveryCarrier(models.Model):
    _inherit = "delivery.carrier"

    label_use_carrier_template = fields.Boolean(
        string="Use Carrier's Print Template",
        help="Print the label the carrier laid out itself (the print template KDNiao returns with the waybill, "
        "with Fetch Print Template on) instead of our layout, on every printer at its paper size. Deliveries "
        "without a template, of shops with Privacy Labels and multi-parcel waybills keep our layout.",
    )
