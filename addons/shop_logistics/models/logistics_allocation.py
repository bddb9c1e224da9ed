"""Warehouse allocation configuration: the region-to-warehouse priority table, each warehouse's daily capacity
and cost, the warehouses a shop ships from, and the product tags whose goods travel apart."""

from odoo import api, fields, models

from ..engines import allocation


class LogisticsWarehousePriority(models.Model):
    _name = "logistics.warehouse.priority"
    _description = "Warehouse Priority by Region"
    _order = "sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(
        default=10, help="Rows are read from the top: the first region holding the destination ranks the warehouses, "
        "in the order of its rows.",
    )
    region_set_id = fields.Many2one("logistics.region.set", string="Region", required=True, ondelete="cascade", index=True)
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Warehouse", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("region_warehouse_uniq", "unique(region_set_id, warehouse_id)",
         "A warehouse is listed once per region."),
    ]

    @api.model
    def _engine_priorities(self, company, divisions):
        """The ``allocation.RegionPriority`` rows of ``company``: one per region, its warehouses nearest first."""
        rows = self.search([("company_id", "=", company.id)])
        by_region = {}
        for row in rows:
            by_region.setdefault(row.region_set_id, []).append(row.warehouse_id.id)
        return tuple(
            allocation.RegionPriority(region._engine_region(divisions), tuple(warehouses))
            for region, warehouses in by_region.items()
        )


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    logistics_daily_capacity = fields.Integer(
        string="Daily Capacity", help="Deliveries this warehouse can ship a day; when they are allocated, the next "
        "warehouse ships. 0: no limit.",
    )
    logistics_delivery_cost = fields.Float(
        string="Cost per Delivery", digits="Product Price",
        help="Handling cost of one delivery from this warehouse: when the destination's region does not decide, "
        "the cheapest warehouse ships first.",
    )
    logistics_allocated_today = fields.Integer(
        string="Allocated Today", compute="_compute_logistics_allocated_today",
        help="Deliveries allocated to this warehouse today.",
    )
    logistics_priority_ids = fields.One2many("logistics.warehouse.priority", "warehouse_id", string="Regions Served First")

    def _compute_logistics_allocated_today(self):
        counts = self._logistics_allocated_counts(fields.Date.context_today(self))
        for warehouse in self:
            warehouse.logistics_allocated_today = counts.get(warehouse.id, 0)

    def _logistics_allocated_counts(self, day, excluded_orders=None):
        """{warehouse id: deliveries allocated on ``day``}, the deliveries of ``excluded_orders`` left out."""
        domain = [
            ("logistics_allocation_date", "=", day),
            ("picking_type_code", "=", "outgoing"),
            ("state", "!=", "cancel"),
            ("picking_type_id.warehouse_id", "in", self.ids),
        ]
        if excluded_orders:
            domain.append(("sale_id", "not in", excluded_orders.ids))
        groups = self.env["stock.picking"]._read_group(domain, ["picking_type_id"], ["__count"])
        counts = {}
        for picking_type, count in groups:
            warehouse = picking_type.warehouse_id.id
            counts[warehouse] = counts.get(warehouse, 0) + count
        return counts


class LogisticsShop(models.Model):
    _inherit = "logistics.shop"

    allocation_warehouse_ids = fields.Many2many(
        "stock.warehouse", "logistics_shop_allocation_warehouse_rel", "shop_id", "warehouse_id",
        string="Ships From", check_company=True,
        help="Warehouses that may ship this shop's orders besides its default warehouse: the allocation picks the "
        "nearest one with stock. Empty: the default warehouse only (every warehouse when there is none).",
    )
    auto_merge = fields.Boolean(
        string="Merge Orders Automatically",
        help="Orders of the same buyer and address not printed yet go into one delivery without asking. "
        "Otherwise they are proposed under Orders › Merge Proposals.",
    )

    def _logistics_ships_from(self, warehouse):
        """True when ``warehouse`` may ship this shop's orders."""
        self.ensure_one()
        if self.allocation_warehouse_ids or self.warehouse_id:
            return warehouse in (self.allocation_warehouse_ids | self.warehouse_id)
        return True


class ProductTag(models.Model):
    _inherit = "product.tag"

    logistics_ship_apart = fields.Boolean(
        string="Ships Apart",
        help="Goods with this tag travel in their own delivery, e.g. fresh goods that need a cold-chain carrier.",
    )

    @api.model
    def _logistics_ship_apart_tags(self):
        return self.search([("logistics_ship_apart", "=", True)])
