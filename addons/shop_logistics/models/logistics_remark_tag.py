from odoo import api, fields, models

from .. import remark_tags


class LogisticsRemarkTag(models.Model):
    _name = "logistics.remark.tag"
    _description = "Remark Tag"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Technical code used by audit and routing rules.")
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [
            ("carrier_required", "Carrier Required"),
            ("carrier_excluded", "Carrier Excluded"),
            ("gift", "Gift"),
            ("urgent", "Urgent"),
            ("attention", "Needs Attention"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
    )
    express_code = fields.Char(
        string="Express Company Code", help="KDNiao code of the express company the tag requires or excludes."
    )
    keywords = fields.Text(
        required=True,
        help="Words that set this tag when found in a buyer remark or seller memo, separated by commas or lines.",
    )

    _sql_constraints = [("code_uniq", "unique(code)", "The remark tag code must be unique.")]

    @api.model
    def _match_text(self, text):
        tags = self.search([])
        matched_ids = remark_tags.match_tags(text, [(tag.id, remark_tags.split_keywords(tag.keywords)) for tag in tags])
        return self.browse(matched_ids)
