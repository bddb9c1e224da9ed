from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsSkuMapping(models.Model):
    _name = "logistics.sku.mapping"
    _description = "Platform SKU Mapping"
    _order = "shop_id, merchant_code, platform_sku_id"
    _check_company_auto = True

    shop_id = fields.Many2one(
        "logistics.shop", string="Shop", check_company=True, help="Empty: the mapping applies to every shop."
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    platform_sku_id = fields.Char(string="Platform SKU ID", index=True)
    merchant_code = fields.Char(string="Merchant Code (商家编码)", index=True)
    title = fields.Char(string="Platform Title")
    active = fields.Boolean(default=True)
    line_ids = fields.One2many("logistics.sku.mapping.line", "mapping_id", string="Products", copy=True)
    is_combo = fields.Boolean(compute="_compute_is_combo", string="Combo")

    @api.depends("line_ids")
    def _compute_is_combo(self):
        for mapping in self:
            mapping.is_combo = len(mapping.line_ids) > 1 or any(line.quantity != 1 for line in mapping.line_ids)

    @api.constrains("platform_sku_id", "merchant_code", "line_ids")
    def _check_key_and_products(self):
        for mapping in self:
            if not (mapping.platform_sku_id or mapping.merchant_code):
                raise ValidationError(self.env._("A SKU mapping needs a platform SKU ID or a merchant code."))
            if not mapping.line_ids:
                raise ValidationError(self.env._("A SKU mapping needs at least one product."))

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        mappings._release_held_orders()
        return mappings

    def write(self, vals):
        result = super().write(vals)
        self._release_held_orders()
        return result

    def _release_held_orders(self):
        """Orders held for an unmapped SKU are mapped again; those now complete are released."""
        shops = self.shop_id or self.env["logistics.shop"].search([])
        held = self.env["sale.order"].search(
            [("shop_id", "in", shops.ids), ("active_hold_ids.reason", "=", "sku"), ("state", "=", "draft")]
        )
        held._platform_remap_lines()

    @api.model
    def _resolve(self, shop, platform_sku_id, merchant_code):
        """Products and quantities for one platform line, or None when nothing maps it.

        Order: this shop's mapping by SKU id, then by merchant code, then mappings for every shop, then a
        product whose internal reference is the merchant code.
        """
        for key, value in (("platform_sku_id", platform_sku_id), ("merchant_code", merchant_code)):
            if not value:
                continue
            for shop_domain in ([("shop_id", "=", shop.id)], [("shop_id", "=", False)]):
                mapping = self.search(shop_domain + [(key, "=", value), ("company_id", "=", shop.company_id.id)], limit=1)
                if mapping:
                    return [(line.product_id, line.quantity) for line in mapping.line_ids]
        if merchant_code:
            product = self.env["product.product"].search(
                [("default_code", "=", merchant_code), ("company_id", "in", (False, shop.company_id.id))], limit=1
            )
            if product:
                return [(product, 1.0)]
        return None


class LogisticsSkuMappingLine(models.Model):
    _name = "logistics.sku.mapping.line"
    _description = "Platform SKU Mapping Product"

    mapping_id = fields.Many2one("logistics.sku.mapping", required=True, ondelete="cascade", index=True)
    product_id = fields.Many2one("product.product", required=True, domain=[("sale_ok", "=", True)])
    quantity = fields.Float(default=1.0, required=True, digits="Product Unit of Measure")
