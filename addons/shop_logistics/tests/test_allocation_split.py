from decimal import Decimal

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.shop_logistics.engines.cn_regions import load_divisions


class AllocationCase(TransactionCase):
    """Three warehouses (Beijing, Shanghai, Guangzhou), a shop that ships from all of them (Shanghai by default),
    a priority table 华北 → Beijing, Shanghai and 华南 → Guangzhou, and buyers in Beijing, Guangzhou and Hangzhou."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["logistics.warehouse.priority"].search([]).active = False
        Warehouse = cls.env["stock.warehouse"]
        cls.bj = Warehouse.create({"name": "测试北京仓", "code": "TBJ", "logistics_delivery_cost": 4})
        cls.sh = Warehouse.create({"name": "测试上海仓", "code": "TSH", "logistics_delivery_cost": 3})
        cls.gz = Warehouse.create({"name": "测试广州仓", "code": "TGZ", "logistics_delivery_cost": 2})
        cls.shop = cls.env["logistics.shop"].create({
            "name": "Alloc Tmall", "code": "AL-TM", "platform": "tmall", "warehouse_id": cls.sh.id,
            "allocation_warehouse_ids": [Command.set((cls.bj | cls.sh | cls.gz).ids)],
        })
        Region = cls.env["logistics.region.set"]
        cls.north = Region.create({"name": "华北T", "members": "北京\n天津"})
        cls.south = Region.create({"name": "华南T", "members": "广东"})
        Priority = cls.env["logistics.warehouse.priority"]
        for sequence, region, warehouse in ((1, cls.north, cls.bj), (2, cls.north, cls.sh), (3, cls.south, cls.gz)):
            Priority.create({"sequence": sequence, "region_set_id": region.id, "warehouse_id": warehouse.id})
        cls.fresh = cls.env["product.tag"].create({"name": "Test Fresh", "logistics_ship_apart": True})
        Product = cls.env["product.product"]
        cls.cup = Product.create({"name": "Alloc Cup", "default_code": "AL-CUP", "is_storable": True, "weight": 0.5})
        cls.scarf = Product.create({"name": "Alloc Scarf", "default_code": "AL-SCARF", "is_storable": True})
        cls.crab = Product.create({
            "name": "Alloc Crab", "default_code": "AL-CRAB", "is_storable": True,
            "product_tag_ids": [Command.set(cls.fresh.ids)],
        })
        for warehouse in cls.bj | cls.sh | cls.gz:
            cls._stock(cls.cup, warehouse, 50)
            cls._stock(cls.crab, warehouse, 20)
        cls.cn = cls.env.ref("base.cn")
        cls.beijing_buyer = cls._buyer("王北京", "13800138001", "base.state_cn_BJ", "北京市", "朝阳区建国路88号")
        cls.guangzhou_buyer = cls._buyer("李广州", "13800138002", "base.state_cn_GD", "广州市", "天河区花城大道85号")
        cls.hangzhou_buyer = cls._buyer("张杭州", "13800138003", "base.state_cn_ZJ", "杭州市", "西湖区文三路1号")

    @classmethod
    def _stock(cls, product, warehouse, quantity):
        cls.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, quantity)

    @classmethod
    def _buyer(cls, name, mobile, state, city, street):
        return cls.env["res.partner"].create({
            "name": name, "mobile": mobile, "state_id": cls.env.ref(state).id, "city": city, "street": street,
            "country_id": cls.cn.id,
        })

    def _order(self, ref, buyer, lines, confirm=True, **values):
        order = self.env["sale.order"].create({
            "partner_id": buyer.id,
            "shop_id": self.shop.id,
            "platform_order_id": ref,
            "buyer_nick": values.pop("buyer_nick", buyer.name),
            "paid_at": fields.Datetime.now(),
            "order_line": [
                Command.create({"product_id": product.id, "product_uom_qty": quantity, "price_unit": price,
                                "tax_id": [Command.clear()]})
                for product, quantity, price in lines
            ],
            **values,
        })
        if confirm:
            order.action_confirm()
        return order

    def _deliveries(self, order):
        return order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state != "cancel")

    def _shipped(self, order):
        """{(warehouse, product, ship-apart tag): quantity} of the order's open deliveries."""
        result = {}
        for picking in self._deliveries(order):
            for move in picking.move_ids:
                key = (picking.picking_type_id.warehouse_id, move.product_id, picking.logistics_ship_apart_tag_id)
                result[key] = result.get(key, 0) + move.product_uom_qty
        return result

    def _explanation(self, order):
        return str(order.with_context(lang="en_US").logistics_allocation_explanation)

    def assertProcurementConsistent(self, order):
        """Every line is procured exactly once: Odoo would not procure anything more for it."""
        moves_before = order.order_line.move_ids
        for line in order.order_line:
            self.assertEqual(line._get_qty_procurement(), line.product_uom_qty, line.product_id.display_name)
        order.order_line._action_launch_stock_rule()
        self.assertEqual(order.order_line.move_ids, moves_before)


@tagged("post_install", "-at_install")
class TestAllocation(AllocationCase):
    def test_nearest_warehouse_by_region(self):
        north = self._order("AL-1", self.beijing_buyer, [(self.cup, 2, 30)], confirm=False)
        south = self._order("AL-2", self.guangzhou_buyer, [(self.cup, 1, 30)], confirm=False)
        # a new order starts in the nearest warehouse by region: its delivery is right from the start
        self.assertEqual(north.warehouse_id, self.bj)
        self.assertEqual(south.warehouse_id, self.gz)
        (north | south).action_confirm()
        delivery = self._deliveries(north)
        (north | south).action_logistics_approve()
        self.assertEqual(self._shipped(north), {(self.bj, self.cup, self.env["product.tag"]): 2})
        self.assertEqual(self._shipped(south), {(self.gz, self.cup, self.env["product.tag"]): 1})
        self.assertEqual(self._deliveries(north), delivery)
        self.assertEqual(north.logistics_allocation_data["outcome"], "kept")
        self.assertEqual(delivery.move_ids.sale_line_id, north.order_line)
        self.assertEqual(delivery.logistics_allocation_date, fields.Date.context_today(delivery))
        self.assertEqual(delivery.move_ids.state, "assigned")  # reserved at approval
        html = self._explanation(north)
        self.assertIn("is in 华北T: warehouses 测试北京仓, 测试上海仓 first.", html)
        self.assertIn("测试北京仓 ships the whole order (cost 4.00).", html)
        self.assertFalse(north.logistics_split)
        # translated for a Chinese reader
        self.env["res.lang"]._activate_lang("zh_CN")
        self.assertIn("测试北京仓 发出整单", str(north.with_context(lang="zh_CN").logistics_allocation_explanation))

    def test_confirmation_starts_where_the_stock_is(self):
        self._stock(self.scarf, self.gz, 5)
        order = self._order("AL-S", self.beijing_buyer, [(self.scarf, 1, 99)], confirm=False)
        self.assertEqual(order.warehouse_id, self.bj)  # by region
        order.action_confirm()
        self.assertEqual(self._shipped(order), {(self.gz, self.scarf, self.env["product.tag"]): 1})
        self.assertFalse(order.logistics_allocation_data)  # decided and explained at approval
        order.action_logistics_approve()
        self.assertEqual(order.logistics_allocation_data["outcome"], "kept")

    def test_confirmed_in_the_wrong_warehouse_is_made_again(self):
        # confirmed from the shop's default warehouse before the priority table knew the region
        self.env["logistics.warehouse.priority"].search([("region_set_id", "=", self.south.id)]).active = False
        order = self._order("AL-R", self.guangzhou_buyer, [(self.cup, 2, 30)])
        old = self._deliveries(order)
        self.assertEqual(old.picking_type_id.warehouse_id, self.gz)  # the cheapest: no region yet
        self.env["logistics.warehouse.priority"].search([("region_set_id", "=", self.south.id)]).active = True
        self.env["logistics.warehouse.priority"].create(
            {"sequence": 0, "region_set_id": self.south.id, "warehouse_id": self.sh.id}
        )
        order.action_logistics_approve()
        self.assertEqual(self._shipped(order), {(self.sh, self.cup, self.env["product.tag"]): 2})
        self.assertEqual(order.warehouse_id, self.sh)
        self.assertEqual(old.state, "cancel")
        self.assertEqual(old.logistics_state, "cancelled")
        delivery = self._deliveries(order)
        self.assertEqual(delivery.move_ids.sale_line_id, order.order_line)
        self.assertEqual(delivery.logistics_state, "to_route")
        self.assertEqual(delivery.move_ids.state, "assigned")
        self.assertProcurementConsistent(order)
        self.assertEqual(order.logistics_allocation_data["outcome"], "replanned")
        self.assertIn(f"Deliveries {old.name} cancelled and made again from the allocated warehouses: {delivery.name}.",
                      self._explanation(order))

    def test_kept_when_already_right(self):
        self.shop.warehouse_id = self.gz  # by cost Guangzhou ships first, and the delivery is already there
        order = self._order("AL-K", self.hangzhou_buyer, [(self.cup, 1, 30)])
        delivery = self._deliveries(order)
        order.action_logistics_approve()
        self.assertEqual(self._deliveries(order), delivery)
        self.assertEqual(order.logistics_allocation_data["outcome"], "kept")
        self.assertEqual(delivery.logistics_allocation_date, fields.Date.context_today(delivery))
        self.assertFalse(order.picking_ids.filtered(lambda p: p.state == "cancel"))

    def test_no_stock_goes_to_next_warehouse(self):
        self._stock(self.scarf, self.sh, 5)
        self._stock(self.scarf, self.gz, 5)
        self._stock(self.scarf, self.bj, 1)
        order = self._order("AL-3", self.beijing_buyer, [(self.scarf, 1, 99)])
        old = self._deliveries(order)
        self.assertEqual(old.picking_type_id.warehouse_id, self.bj)  # nearest by region, with stock then
        self._stock(self.scarf, self.bj, -1)  # sold elsewhere before the audit
        order.action_logistics_approve()
        self.assertEqual(self._shipped(order), {(self.sh, self.scarf, self.env["product.tag"]): 1})
        self.assertEqual(old.state, "cancel")
        self.assertIn("测试北京仓 lacks AL-SCARF ×1.", self._explanation(order))
        self.assertProcurementConsistent(order)

    def test_capacity_full_goes_to_next_warehouse(self):
        self.bj.logistics_daily_capacity = 1
        first = self._order("AL-4", self.beijing_buyer, [(self.cup, 1, 30)])
        second = self._order("AL-5", self.beijing_buyer, [(self.cup, 1, 30)], buyer_nick="other buyer")
        (first | second).action_logistics_approve()
        self.assertEqual(self._deliveries(first).picking_type_id.warehouse_id, self.bj)
        self.assertEqual(self._deliveries(second).picking_type_id.warehouse_id, self.sh)
        self.assertIn("测试北京仓 has used its capacity of 1 deliveries today.", self._explanation(second))
        self.assertEqual(self.bj.logistics_allocated_today, 1)
        # a later batch counts the deliveries allocated today
        third = self._order("AL-6", self.beijing_buyer, [(self.cup, 1, 30)], buyer_nick="third buyer")
        third.action_logistics_approve()
        self.assertEqual(self._deliveries(third).picking_type_id.warehouse_id, self.sh)

    def test_no_region_by_cost(self):
        order = self._order("AL-7", self.hangzhou_buyer, [(self.cup, 1, 30)])
        order.action_logistics_approve()
        self.assertEqual(self._deliveries(order).picking_type_id.warehouse_id, self.gz)
        self.assertIn("No region lists 浙江省/杭州市/西湖区: warehouses by cost.", self._explanation(order))
        # Guangzhou dearer: Shanghai is now the cheapest
        self.gz.logistics_delivery_cost = 5
        again = self._order("AL-8", self.hangzhou_buyer, [(self.cup, 1, 30)], buyer_nick="again")
        again.action_logistics_approve()
        self.assertEqual(self._deliveries(again).picking_type_id.warehouse_id, self.sh)

    def test_draft_order_gets_the_warehouse_before_confirmation(self):
        self._stock(self.scarf, self.sh, 5)
        order = self._order("AL-9", self.guangzhou_buyer, [(self.scarf, 1, 30)], confirm=False)
        self.assertEqual(order.warehouse_id, self.gz)  # by region
        order.action_logistics_approve()
        self.assertEqual(order.warehouse_id, self.sh)  # where the stock is
        self.assertEqual(order.logistics_allocation_data["outcome"], "planned")
        self.assertFalse(order.picking_ids)
        order.action_confirm()
        self.assertEqual(self._shipped(order), {(self.sh, self.scarf, self.env["product.tag"]): 1})
        self.assertFalse(order.picking_ids.filtered(lambda p: p.state == "cancel"))
        self.assertEqual(order.logistics_allocation_data["outcome"], "kept")

    def test_started_deliveries_are_left_alone(self):
        order = self._order("AL-10", self.beijing_buyer, [(self.scarf, 1, 30)])
        self._stock(self.scarf, self.sh, 5)
        delivery = self._deliveries(order)
        delivery.write({"waybill_number": "SF100", "logistics_label_printed_at": fields.Datetime.now()})
        order.action_logistics_approve()
        self.assertEqual(self._deliveries(order), delivery)
        self.assertEqual(delivery.picking_type_id.warehouse_id, self.bj)
        self.assertEqual(order.logistics_allocation_data["outcome"], "in_progress")
        self.assertIn("already under way", self._explanation(order))

    def test_allocate_again_needs_approved_orders(self):
        order = self._order("AL-11", self.beijing_buyer, [(self.cup, 1, 30)])
        with self.assertRaises(UserError):
            order.action_logistics_allocate()

    def test_shortage_waits_in_the_nearest_warehouse(self):
        order = self._order("AL-12", self.beijing_buyer, [(self.scarf, 2, 10)])
        order.action_logistics_approve()
        self.assertEqual(self._shipped(order), {(self.bj, self.scarf, self.env["product.tag"]): 2})
        self.assertTrue(order.logistics_allocation_short)
        self.assertIn("No warehouse has AL-SCARF ×2.", self._explanation(order))
        self.assertProcurementConsistent(order)


@tagged("post_install", "-at_install")
class TestSplit(AllocationCase):
    def test_split_across_warehouses_keeps_lines_and_amounts(self):
        mug = self.env["product.product"].create({"name": "Alloc Mug", "default_code": "AL-MUG", "is_storable": True})
        self._stock(mug, self.bj, 3)
        self._stock(mug, self.sh, 2)
        self._stock(self.scarf, self.gz, 4)
        order = self._order("SP-1", self.beijing_buyer, [(mug, 5, 33.33), (self.scarf, 1, 59.9)])
        mug_line, scarf_line = order.order_line
        order.action_logistics_approve()
        self.assertTrue(order.logistics_split)
        no_tag = self.env["product.tag"]
        self.assertEqual(self._shipped(order), {
            (self.bj, mug, no_tag): 3, (self.sh, mug, no_tag): 2, (self.gz, self.scarf, no_tag): 1,
        })
        deliveries = self._deliveries(order)
        self.assertEqual(len(deliveries), 3)
        # every move names its order line; quantities add up to each line
        for line in (mug_line, scarf_line):
            moves = deliveries.move_ids.filtered(lambda move, line=line: move.sale_line_id == line)
            self.assertEqual(sum(moves.mapped("product_uom_qty")), line.product_uom_qty)
        self.assertEqual(deliveries.move_ids.sale_line_id, order.order_line)
        self.assertProcurementConsistent(order)
        # the amounts of the deliveries add up to the order's, to the cent
        data = order.logistics_allocation_data
        values = sorted(Decimal(delivery["value"]) for delivery in data["deliveries"])
        self.assertEqual(values, [Decimal("59.90"), Decimal("66.66"), Decimal("99.99")])
        self.assertEqual(sum(values), Decimal(str(order.amount_total)))
        html = self._explanation(order)
        self.assertIn("Stock is in 3 warehouses: one delivery from each.", html)
        self.assertIn("测试北京仓 ships AL-MUG ×3.", html)
        # delivered in part: the sale line counts what each delivery shipped
        first = deliveries.filtered(lambda p: p.picking_type_id.warehouse_id == self.bj)
        first.move_ids.quantity = 3
        first.move_ids.picked = True
        first._action_done()
        self.assertEqual(mug_line.qty_delivered, 3)

    def test_fresh_goods_travel_apart(self):
        order = self._order("SP-2", self.guangzhou_buyer, [(self.cup, 1, 30), (self.crab, 2, 198)])
        # at confirmation already: Odoo's procurement puts the fresh goods in their own delivery
        self.assertEqual(len(self._deliveries(order)), 2)
        order.action_logistics_approve()
        no_tag = self.env["product.tag"]
        self.assertEqual(self._shipped(order), {(self.gz, self.cup, no_tag): 1, (self.gz, self.crab, self.fresh): 2})
        fresh = self._deliveries(order).filtered("logistics_ship_apart_tag_id")
        self.assertEqual(fresh.move_ids.sale_line_id, order.order_line.filtered(lambda l: l.product_id == self.crab))
        self.assertTrue(order.logistics_split)
        self.assertIn("AL-CRAB travel apart as Test Fresh goods.", self._explanation(order))
        self.assertProcurementConsistent(order)


@tagged("post_install", "-at_install")
class TestMerge(AllocationCase):
    def _two_orders(self):
        first = self._order("MG-1", self.guangzhou_buyer, [(self.cup, 2, 30)], buyer_nick="xiaoli")
        second = self._order("MG-2", self.guangzhou_buyer, [(self.cup, 1, 30), (self.crab, 1, 198)],
                             buyer_nick="xiaoli")
        third = self._order("MG-3", self.guangzhou_buyer, [(self.cup, 1, 45.5)], buyer_nick="xiaoli")
        return first, second, third

    def test_proposal_and_one_click_merge(self):
        first, second, third = self._two_orders()
        totals = [order.amount_total for order in (first, second, third)]
        (first | second | third).action_logistics_approve()
        Proposal = self.env["logistics.merge.proposal"]
        proposal = Proposal.search([("shop_id", "=", self.shop.id), ("state", "=", "proposed")])
        self.assertEqual(len(proposal), 1)  # the fresh delivery travels apart: not merged with the others
        self.assertEqual(proposal.order_ids, first | second | third)
        self.assertAlmostEqual(proposal.amount_total, sum(totals))
        self.assertIn("Same shop, buyer and address, not printed yet", proposal.with_context(lang="en_US").reason)
        ordinary = (first | second | third).picking_ids.filtered(
            lambda p: not p.logistics_ship_apart_tag_id and p.state != "cancel"
        )
        self.assertEqual(proposal.picking_ids, ordinary)
        lines_before = {line: line.product_uom_qty for line in ordinary.move_ids.sale_line_id}
        proposal.action_merge()
        merged = proposal.merged_picking_id
        self.assertEqual(proposal.state, "merged")
        self.assertEqual(merged, ordinary.sorted("id")[0])
        self.assertEqual(len(ordinary.exists()), 1)
        self.assertTrue(merged.logistics_merged)
        self.assertEqual(merged.logistics_order_ids, first | second | third)
        # every line travels with its quantity; the orders keep their lines and amounts
        self.assertEqual({move.sale_line_id: move.product_uom_qty for move in merged.move_ids}, lines_before)
        self.assertEqual([order.amount_total for order in (first, second, third)], totals)
        self.assertEqual(second.logistics_merged_picking_ids, merged)
        self.assertEqual(merged.move_ids.mapped("state"), ["assigned"] * 3)
        # the parcel's declared value is every order's goods
        shipment = merged._logistics_engine_shipment(load_divisions(), fields.Date.today())
        self.assertEqual(shipment.value, Decimal("135.50"))
        self.assertEqual(merged.logistics_state, "to_route")
        # nothing more to propose; the fresh delivery of the second order stays apart
        self.assertFalse(Proposal._logistics_propose().filtered(lambda p: p.shop_id == self.shop))
        for move in merged.move_ids:
            move.quantity = move.product_uom_qty
        merged.move_ids.picked = True
        merged._action_done()
        self.assertEqual(second.order_line.filtered(lambda l: l.product_id == self.cup).qty_delivered, 1)

    def test_automatic_merge_per_shop(self):
        self.shop.auto_merge = True
        first, second, third = self._two_orders()
        (first | second | third).action_logistics_approve()
        proposal = self.env["logistics.merge.proposal"].search([("shop_id", "=", self.shop.id)])
        self.assertEqual(proposal.state, "merged")
        deliveries = (first | second | third).order_line.move_ids.filtered(lambda m: m.state != "cancel").picking_id
        self.assertEqual(len(deliveries), 2)  # one parcel and the fresh goods
        self.assertEqual(deliveries.filtered("logistics_merged").logistics_order_ids, first | second | third)

    def test_printed_deliveries_are_not_merged(self):
        first, second, third = self._two_orders()
        printed = third.picking_ids
        printed.write({"waybill_number": "ZTO200", "logistics_label_printed_at": fields.Datetime.now()})
        (first | second | third).action_logistics_approve()
        proposal = self.env["logistics.merge.proposal"].search([("shop_id", "=", self.shop.id)])
        self.assertEqual(proposal.order_ids, first | second)
        # printed meanwhile: the merge is refused, nothing changes
        second.picking_ids.filtered(lambda p: not p.logistics_ship_apart_tag_id).waybill_number = "ZTO201"
        with self.assertRaises(UserError):
            proposal.action_merge()
        self.assertEqual(proposal.state, "proposed")
        self.assertEqual(len(first.picking_ids.filtered(lambda p: p.state != "cancel")), 1)
        # and the next look drops the proposal
        self.env["logistics.merge.proposal"]._logistics_propose()
        self.assertFalse(proposal.exists())

    def test_other_buyer_or_address_not_proposed(self):
        first = self._order("MG-4", self.guangzhou_buyer, [(self.cup, 1, 30)], buyer_nick="xiaoli")
        elsewhere = self.guangzhou_buyer.copy({"street": "越秀区北京路1号"})
        second = self._order("MG-5", elsewhere, [(self.cup, 1, 30)], buyer_nick="xiaoli")
        (first | second).action_logistics_approve()
        self.assertFalse(self.env["logistics.merge.proposal"].search([("shop_id", "=", self.shop.id)]))

    def test_a_clerk_approves_and_merges(self):
        clerk = self.env["res.users"].create({
            "name": "Alloc Clerk", "login": "alloc_clerk", "email": "alloc_clerk@example.com",
            "groups_id": [Command.set([self.env.ref("base.group_user").id,
                                       self.env.ref("shop_logistics.group_logistics_user").id])],
        })
        first, second, third = self._two_orders()
        (first | second | third).with_user(clerk).action_logistics_approve()
        Proposal = self.env["logistics.merge.proposal"].with_user(clerk)
        proposal = Proposal.search([("shop_id", "=", self.shop.id), ("state", "=", "proposed")])
        self.assertEqual(proposal.order_ids, first | second | third)
        # a delivery printed meanwhile: the clerk's next look drops the proposal, then merges the others
        third.picking_ids.filtered(lambda p: p.state != "cancel").waybill_number = "YD300"
        Proposal._logistics_propose()
        self.assertFalse(proposal.exists())
        proposal = Proposal.search([("shop_id", "=", self.shop.id), ("state", "=", "proposed")])
        self.assertEqual(proposal.order_ids, first | second)
        proposal.action_merge()
        self.assertEqual(proposal.state, "merged")
        self.assertEqual(proposal.merged_by_id, clerk)

    def test_dismissed_proposal_is_not_proposed_again(self):
        first = self._order("MG-6", self.guangzhou_buyer, [(self.cup, 1, 30)], buyer_nick="xiaoli")
        second = self._order("MG-7", self.guangzhou_buyer, [(self.cup, 1, 30)], buyer_nick="xiaoli")
        (first | second).action_logistics_approve()
        proposal = self.env["logistics.merge.proposal"].search([("shop_id", "=", self.shop.id)])
        proposal.action_dismiss()
        proposals = self.env["logistics.merge.proposal"]._logistics_propose()
        self.assertFalse(proposals.filtered(lambda p: p.shop_id == self.shop))
        self.assertEqual(proposal.state, "dismissed")
