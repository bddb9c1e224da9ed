from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .test_exceptions import ExceptionCase


class TicketScreenCase(ExceptionCase):
    @classmethod
    def _order_with_delivery_failed(cls, platform_order_id, waybill):
        """A confirmed shop order whose parcel the carrier could not deliver: its ticket is open."""
        order = cls._shop_order(platform_order_id)
        order.action_confirm()
        picking = order.picking_ids
        picking.write({"logistics_state": "in_transit", "waybill_number": waybill, "carrier_id": cls.carrier.id})
        cls.env["logistics.shipment.event"]._record_events(
            [
                {
                    "waybill_number": waybill,
                    "picking_id": picking.id,
                    "event_time": cls.now,
                    "status": "exception",
                    "problem_kind": "delivery_failed",
                    "description": "派送不成功，收件人电话无人接听",
                    "location": "南京市",
                    "source": "push",
                }
            ]
        )
        return order


@tagged("post_install", "-at_install")
class TestOrderExceptionFlag(TicketScreenCase):
    """A sale order is red in the order lists while one of its deliveries is in exception (issue #7)."""

    def test_order_is_flagged_while_its_delivery_has_an_open_ticket(self):
        order = self._order_with_delivery_failed("FLAG-1", "SFFLAG0001")
        ticket = order.logistics_ticket_ids
        self.assertEqual(ticket.kind, "delivery_failed")
        self.assertTrue(order.picking_ids.is_logistics_exception)
        self.assertTrue(order.logistics_exception)
        flagged = self.env["sale.order"].search([("logistics_exception", "=", True)])
        self.assertIn(order, flagged)
        ticket.write({"resolution": "redeliver"})
        ticket.action_resolve()
        self.assertFalse(order.picking_ids.is_logistics_exception)
        self.assertFalse(order.logistics_exception)
        self.assertNotIn(order, self.env["sale.order"].search([("logistics_exception", "=", True)]))

    def test_flagged_by_hand_then_cancelled(self):
        order = self._shop_order("FLAG-2")
        order.action_confirm()
        self.assertFalse(order.logistics_exception)
        order.picking_ids.action_logistics_flag_exception()
        self.assertTrue(order.logistics_exception)
        order.picking_ids.action_cancel()
        self.assertEqual(order.picking_ids.logistics_state, "cancelled")
        self.assertFalse(order.logistics_exception, "a cancelled delivery is not a problem of the order")

    def test_one_delivery_in_exception_is_enough(self):
        order = self._shop_order("FLAG-3")
        order.action_confirm()
        first = order.picking_ids
        second = first.copy()  # the order ships in two parcels
        self.assertEqual(order.picking_ids, first | second)
        second.action_logistics_flag_exception()
        self.assertTrue(order.logistics_exception)
        self.assertFalse(first.is_logistics_exception)
        second._set_logistics_state("routed")  # shipped again
        self.assertFalse(order.logistics_exception)

    def test_lists_colour_the_rows_and_search_filters_exist(self):
        lists = {
            ("sale.order", "sale.view_order_tree"): "logistics_exception",
            ("sale.order", "sale.view_quotation_tree"): "logistics_exception",
            ("sale.order", "shop_logistics.view_order_logistics_list"): "logistics_exception",
            ("stock.picking", "stock.vpicktree"): "is_logistics_exception",
            ("stock.picking", "shop_logistics.view_picking_logistics_list"): "is_logistics_exception",
        }
        for (model, xmlid), field_name in lists.items():
            with self.subTest(view=xmlid):
                arch = self.env[model].get_view(self.env.ref(xmlid).id, "list")["arch"]
                root = etree.fromstring(arch)
                self.assertIn(field_name, root.get("decoration-danger", ""))
                self.assertTrue(root.xpath(f"//field[@name='{field_name}']"), "the field the decoration reads")
        searches = {
            ("sale.order", "sale.view_sales_order_filter"),
            ("sale.order", "shop_logistics.view_order_logistics_search"),
            ("stock.picking", "stock.view_picking_internal_search"),
        }
        for model, xmlid in searches:
            with self.subTest(view=xmlid):
                arch = self.env[model].get_view(self.env.ref(xmlid).id, "search")["arch"]
                self.assertTrue(etree.fromstring(arch).xpath("//filter[@name='logistics_exception']"))


@tagged("post_install", "-at_install")
class TestTicketHandling(TicketScreenCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"].search([("name", "=", "shop_logistics")])._update_translations(["zh_CN"])
        cls.clerk = new_test_user(
            cls.env, login="ts_clerk", groups="base.group_user,shop_logistics.group_logistics_user", lang="zh_CN"
        )

    def test_assign_to_me_takes_and_starts_the_ticket(self):
        ticket = self._order_with_delivery_failed("TAKE-1", "SFTAKE0001").logistics_ticket_ids
        self.assertFalse(ticket.user_id)
        ticket.with_user(self.clerk).action_assign_to_me()
        self.assertEqual(ticket.user_id, self.clerk)
        self.assertEqual(ticket.state, "in_progress")
        activity = ticket.activity_ids
        self.assertEqual(activity.user_id, self.clerk)
        self.assertEqual(activity.summary, "处理：派送失败", "the to-do is written in its owner's language")
        ticket.write({"resolution": "redeliver"})
        ticket.action_resolve()
        with self.assertRaisesRegex(UserError, ticket.name):
            ticket.with_user(self.clerk).action_assign_to_me()

    def test_statistics_of_causes_by_carrier_and_shop(self):
        self._order_with_delivery_failed("STAT-1", "SFSTAT0001")
        self._order_with_delivery_failed("STAT-2", "SFSTAT0002")
        pivot = etree.fromstring(self.env["logistics.ticket"].get_view(False, "pivot")["arch"])
        self.assertEqual(pivot.get("display_quantity"), "1", "the pivot counts the tickets")
        self.assertEqual(pivot.xpath("//field[@type='row']/@name"), ["kind"])
        self.assertEqual(pivot.xpath("//field[@type='col']/@name"), ["carrier_id"])
        graph = etree.fromstring(self.env["logistics.ticket"].get_view(False, "graph")["arch"])
        self.assertEqual(graph.xpath("//field/@name"), ["kind", "shop_id"])
        groups = self.env["logistics.ticket"]._read_group(
            [("shop_id", "=", self.shop.id), ("kind", "=", "delivery_failed")], ["carrier_id", "shop_id"], ["__count"]
        )
        self.assertEqual(groups, [(self.carrier, self.shop, 2)])


@tagged("post_install", "-at_install")
class TestTicketTours(HttpCase, TicketScreenCase):
    """Customer service and the logistics manager in a real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"].search([("name", "=", "shop_logistics")])._update_translations(["zh_CN"])
        new_test_user(
            cls.env, login="tour_cs", password="tour_cs", name="Tour CS", lang="zh_CN",
            groups="base.group_user,shop_logistics.group_logistics_user",
        )
        new_test_user(
            cls.env, login="tour_manager", password="tour_manager", name="Tour Manager", lang="en_US",
            groups="base.group_user,shop_logistics.group_logistics_manager",
        )

    def test_customer_service_resolves_a_ticket(self):
        order = self._order_with_delivery_failed("TOUR-EXC-1", "TOURWB7001")
        ticket = order.logistics_ticket_ids
        self.assertTrue(order.logistics_exception)
        self.start_tour("/odoo", "shop_logistics_ticket_tour", login="tour_cs")
        self.assertEqual(ticket.state, "done")
        self.assertEqual(ticket.resolution, "redeliver")
        self.assertEqual(ticket.user_id.login, "tour_cs")
        self.assertIn("明天重新派送", ticket.resolution_note)
        self.assertFalse(order.logistics_exception)

    def test_manager_releases_reads_rules_and_simulates_routing(self):
        held = self._shop_order("TOUR-HOLD-1")
        held._logistics_hold("address", "TOUR street missing")
        region = self.env["logistics.region.set"].create({"name": "Tour 广东", "members": "广东"})
        jzh = self.env.ref("shop_logistics.region_set_jzh")
        accounts = {}
        for code in ("SF", "ZTO"):
            carrier = self._fixed_carrier(f"Tour {code} method")
            accounts[code] = self.env["logistics.carrier.account"].create(
                {
                    "name": f"Tour {code}",
                    "express_code": code,
                    "carrier_id": carrier.id,
                    "rate_zone_ids": [
                        Command.create({"name": "江浙沪", "region_set_ids": [Command.set(jzh.ids)], "first_price": 4,
                                        "additional_price": 1}),
                    ],
                }
            )
        Rule = self.env["logistics.routing.rule"]
        Rule.create({"name": "Tour Guangdong SF", "sequence": 1, "region_set_ids": [Command.set(region.ids)],
                     "carrier_account_id": accounts["SF"].id})
        Rule.create({"name": "Tour ZTO rule", "sequence": 2, "region_set_ids": [Command.set(jzh.ids)],
                     "carrier_account_id": accounts["ZTO"].id})
        hangzhou = self.buyer.copy({"state_id": self.env.ref("base.state_cn_ZJ").id, "city": "杭州市",
                                    "street": "西湖区文三路1号"})
        to_route = self._shop_order("TOUR-ROUTE-1", partner_id=hangzhou.id)
        to_route.action_confirm()
        delivery = to_route.picking_ids
        self.assertEqual(delivery.logistics_state, "to_route")

        self.start_tour("/odoo", "shop_logistics_routing_tour", login="tour_manager")

        self.assertEqual(held.audit_state, "approved")
        self.assertFalse(held.active_hold_ids)
        self.assertEqual(delivery.logistics_state, "to_route", "a simulation changes nothing")
        self.assertFalse(delivery.carrier_account_id)


@tagged("post_install", "-at_install")
class TestDemoTickets(TicketScreenCase):
    """The demo database shows tickets in every state, handled by the demo teams, and red orders."""

    def setUp(self):
        super().setUp()
        if not self.env.ref("shop_logistics.ticket_team_aftersales", raise_if_not_found=False):
            self.skipTest("installed without demo data")

    def _ticket(self, xmlid):
        return self.env.ref(f"shop_logistics.{xmlid}").picking_ids.logistics_ticket_ids

    def test_demo_tickets(self):
        clerk = self.env.ref("shop_logistics.user_warehouse_clerk")
        manager = self.env.ref("shop_logistics.user_logistics_manager")
        stuck = self._ticket("order_ticket_stuck")
        self.assertEqual((stuck.kind, stuck.state, stuck.user_id.id), ("stuck_at_hub", "new", False))
        self.assertTrue(stuck.sla_overdue)
        failed = self._ticket("order_ticket_failed")
        self.assertEqual((failed.kind, failed.state, failed.user_id), ("delivery_failed", "in_progress", clerk))
        self.assertEqual(failed.team_id, self.env.ref("shop_logistics.ticket_team_aftersales"))
        self.assertIn("派送不成功", failed.detail)
        refused = self._ticket("order_ticket_refused")
        self.assertEqual((refused.kind, refused.state, refused.resolution), ("refused", "done", "return"))
        address = self._ticket("order_ticket_address")
        self.assertEqual((address.kind, address.state, address.user_id, address.priority),
                         ("address_problem", "new", manager, "2"))
        pickup = self._ticket("order_ticket_pickup")
        self.assertEqual((pickup.kind, pickup.state), ("not_picked_up", "cancelled"))
        self.assertEqual(pickup.team_id, self.env.ref("shop_logistics.ticket_team_warehouse"))
        for ticket in failed | refused | address | pickup:
            notes = ticket.message_ids.filtered(lambda m: m.message_type == "comment")
            self.assertTrue(notes, f"{ticket.name} has the team's note in its chatter")
        red = self.env["sale.order"].search([("logistics_exception", "=", True)])
        for xmlid in ("order_3", "order_ticket_stuck", "order_ticket_failed", "order_ticket_address"):
            self.assertIn(self.env.ref(f"shop_logistics.{xmlid}"), red)
        self.assertNotIn(self.env.ref("shop_logistics.order_ticket_pickup"), red)
