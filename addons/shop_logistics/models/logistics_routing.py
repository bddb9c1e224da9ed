"""Carrier routing configuration: region sets, routing rules and rate cards, turned into ``engines.routing`` data."""


from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engines import rate_card, routing
from ..engines.cn_regions import RegionSet, load_divisions
from .sale_order_audit import decimal

ROUTING_MODES = [
    (routing.FIRST_MATCH, "First Matching Rule"),
    (routing.CHEAPEST, "Cheapest Matching Carrier"),
]


def number(value):
    """A float field as Decimal without float noise (1.0 → 1), None when empty (no limit)."""
    return decimal(value) if value else None


def split_members(text):
    return [line.strip() for line in (text or "").replace("，", "\n").replace(",", "\n").splitlines() if line.strip()]


class LogisticsRegionSet(models.Model):
    _name = "logistics.region.set"
    _description = "Region Set"
    _order = "sequence, name"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    members = fields.Text(
        help="One a line: a province (浙江), a city (广东/深圳), a district (广东/深圳/南山) or an adcode.",
    )
    state_ids = fields.Many2many("res.country.state", string="Provinces", domain="[('country_id.code', '=', 'CN')]")

    @api.constrains("members", "state_ids")
    def _check_members(self):
        divisions = load_divisions()
        for region in self:
            for member in split_members(region.members):
                try:
                    divisions.member_code(member)
                except (KeyError, ValueError) as error:
                    raise ValidationError(
                        self.env._("%(member)s in %(region)s is not a division of China: %(error)s",
                                   member=member, region=region.name, error=error)
                    ) from error

    def _engine_region(self, divisions=None):
        """The ``cn_regions.RegionSet`` of this record."""
        self.ensure_one()
        divisions = divisions or load_divisions()
        members = split_members(self.members) + self.state_ids.mapped("name")
        return divisions.region_set(self.name, members)


def provinces_region(states, divisions):
    """A RegionSet of provinces (res.country.state of China, named 浙江省 …)."""
    return RegionSet(", ".join(states.mapped("name")), frozenset(divisions.member_code(name) for name in states.mapped("name")))


class LogisticsRoutingRule(models.Model):
    _name = "logistics.routing.rule"
    _description = "Carrier Routing Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, string="Priority", help="Rules are tried from the lowest priority number.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    # conditions
    region_set_ids = fields.Many2many(
        "logistics.region.set", "logistics_routing_rule_region_rel", string="Regions",
        help="The destination must be in one of these regions (or provinces); empty: anywhere.",
    )
    state_ids = fields.Many2many("res.country.state", string="Provinces", domain="[('country_id.code', '=', 'CN')]")
    excluded_region_set_ids = fields.Many2many(
        "logistics.region.set", "logistics_routing_rule_excluded_region_rel", string="Excluded Regions"
    )
    min_weight = fields.Float(string="Weight Above (kg)", help="0: no minimum.")
    max_weight = fields.Float(string="Weight Up To (kg)", help="0: no maximum.")
    min_value = fields.Float(string="Value Above", help="0: no minimum.")
    max_value = fields.Float(string="Value Up To", help="0: no maximum.")
    category_ids = fields.Many2many("product.category", string="Product Categories")
    product_tag_ids = fields.Many2many("product.tag", string="Product Tags", help="Fresh, fragile, high value …")
    shop_ids = fields.Many2many("logistics.shop", string="Shops", check_company=True)
    platforms = fields.Char(help="Platform codes separated by commas (tmall, jd, douyin …); empty: every platform.")
    remark_tag_ids = fields.Many2many("logistics.remark.tag", string="Remark Tags")
    valid_from = fields.Date()
    valid_to = fields.Date(string="Valid Until")
    # action
    carrier_account_id = fields.Many2one(
        "logistics.carrier.account", string="Carrier Account", required=True, ondelete="cascade", check_company=True
    )
    service_type = fields.Char(string="Service Type", help="The carrier's product passed to the waybill (顺丰标快 …).")
    label_template = fields.Char(string="Label Template")

    def _engine_rule(self, divisions):
        self.ensure_one()
        regions = [region._engine_region(divisions) for region in self.region_set_ids]
        if self.state_ids:
            regions.append(provinces_region(self.state_ids, divisions))
        return routing.RoutingRule(
            key=self.id,
            name=self.name,
            carrier=self.carrier_account_id.id,
            sequence=self.sequence,
            service_type=self.service_type or "",
            label_template=self.label_template or "",
            regions=tuple(regions),
            excluded_regions=tuple(region._engine_region(divisions) for region in self.excluded_region_set_ids),
            min_weight_kg=number(self.min_weight),
            max_weight_kg=number(self.max_weight),
            min_value=number(self.min_value),
            max_value=number(self.max_value),
            categories=frozenset(self.category_ids.mapped("name")),
            tags=frozenset(self.product_tag_ids.mapped("name")),
            shops=frozenset(self.shop_ids.mapped("name")),
            platforms=frozenset(p.strip() for p in (self.platforms or "").split(",") if p.strip()),
            remark_tags=frozenset(self.remark_tag_ids.mapped("code")),
            valid_from=self.valid_from or None,
            valid_to=self.valid_to or None,
        )


class LogisticsRateZone(models.Model):
    _name = "logistics.rate.zone"
    _description = "Rate Card Zone"
    _order = "sequence, id"

    carrier_account_id = fields.Many2one("logistics.carrier.account", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="carrier_account_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, string="Zone")
    region_set_ids = fields.Many2many("logistics.region.set", string="Regions")
    state_ids = fields.Many2many("res.country.state", string="Provinces", domain="[('country_id.code', '=', 'CN')]")
    first_price = fields.Float(string="First Weight Price", required=True)
    additional_price = fields.Float(string="Additional Weight Price", required=True)

    def _engine_zone(self, divisions):
        self.ensure_one()
        codes = set()
        for region in self.region_set_ids:
            codes |= region._engine_region(divisions).codes
        if self.state_ids:
            codes |= provinces_region(self.state_ids, divisions).codes
        return rate_card.Zone(self.name, RegionSet(self.name, frozenset(codes)),
                              decimal(self.first_price), decimal(self.additional_price))


class LogisticsCarrierAccount(models.Model):
    _inherit = "logistics.carrier.account"

    rate_zone_ids = fields.One2many("logistics.rate.zone", "carrier_account_id", string="Rate Card Zones")
    rate_first_weight = fields.Float(string="First Weight (kg)", default=1.0)
    rate_step_weight = fields.Float(string="Additional Weight Step (kg)", default=1.0)
    rate_volumetric_divisor = fields.Integer(
        string="Volumetric Divisor", default=8000, help="L×W×H (cm) divided by this gives the volumetric weight; 0: none."
    )
    rate_max_weight = fields.Float(string="Maximum Weight (kg)", help="0: no limit.")
    rate_remote_region_set_id = fields.Many2one("logistics.region.set", string="Remote Region")
    rate_remote_surcharge = fields.Float(string="Remote Surcharge")

    def _engine_rate_card(self, divisions):
        self.ensure_one()
        if not self.rate_zone_ids:
            return None
        return rate_card.RateCard(
            self.name,
            [zone._engine_zone(divisions) for zone in self.rate_zone_ids],
            first_weight_kg=decimal(self.rate_first_weight or 1),
            step_kg=decimal(self.rate_step_weight or 1),
            volumetric_divisor=self.rate_volumetric_divisor or None,
            remote_region=self.rate_remote_region_set_id._engine_region(divisions) if self.rate_remote_region_set_id else None,
            remote_surcharge=decimal(self.rate_remote_surcharge),
            max_weight_kg=number(self.rate_max_weight),
        )

    def _engine_carrier(self, divisions):
        self.ensure_one()
        return routing.CarrierAccount(
            key=self.id, express_code=(self.express_code or "").upper(), name=self.name,
            rate_card=self._engine_rate_card(divisions), active=self.active,
        )


class ResCompany(models.Model):
    _inherit = "res.company"

    logistics_routing_mode = fields.Selection(
        ROUTING_MODES, string="Carrier Routing", default=routing.FIRST_MATCH, required=True,
        help="First matching rule: the rule with the lowest priority number that matches wins. Cheapest: every "
        "matching rule is priced with its carrier's rate card and the cheapest wins.",
    )
