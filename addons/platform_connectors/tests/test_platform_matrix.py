"""Every platform, end to end against its simulator: pull across the window limit with paging, push
accepted and forged push refused, cancel/refund before and after shipping, and the waybill going back."""

from datetime import timedelta

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import Job

from tests.simulators.platforms import make_simulator

from .common import run_push_jobs, start_simulator_shop

PLATFORMS = ("taobao", "pinduoduo", "douyin", "jd", "kuaishou", "youzan", "shopify", "woocommerce")
LINES = [{"sku_id": "9001", "merchant_code": "PM-CUP", "title": "保温杯 黑色", "quantity": 2, "price": "89.00"}]
RECEIVER = {"name": "王小明", "mobile": "13800138000", "province": "北京市", "city": "北京市", "district": "朝阳区",
            "address": "建国路88号"}
# What each platform's simulator must have recorded as the carrier of an SF parcel.
SF_CODE_SEEN_BY = {
    "taobao": "SF", "pinduoduo": "SF", "douyin": "shunfeng", "jd": "SF", "kuaishou": "4", "youzan": "7",
    "shopify": "SF Express", "woocommerce": None,
}
CONTROLLER_LOGGER = "odoo.addons.platform_connectors.controllers.main"


@tagged("post_install", "-at_install")
class TestEveryPlatform(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.cup = cls.env["product.product"].create(
            {"name": "保温杯", "default_code": "PM-CUP", "type": "consu", "is_storable": True, "list_price": 89}
        )
        cls.sf_method = cls.env["delivery.carrier"].create(
            {"name": "SF Express", "delivery_type": "fixed", "fixed_price": 12, "product_id": cls._freight().id}
        )
        cls.sf_account = cls.env["logistics.carrier.account"].create(
            {"name": "SF Express", "carrier_id": cls.sf_method.id, "express_code": "SF"}
        )

    @classmethod
    def _freight(cls):
        return cls.env["product.product"].create({"name": "Freight (test)", "type": "service"})

    # ------------------------------------------------------------------ helpers

    def _platform(self, code, **sim_options):
        return start_simulator_shop(self, code, f"MX-{code}", **sim_options)

    def _pulled_order(self, code):
        """A simulator, its shop, and one paid order pulled into Odoo: (sim, shop, platform order id, order)."""
        sim, shop = self._platform(code)
        order_id = self._new_order(sim)
        self._pull(sim, shop)
        return sim, shop, order_id, self._order(shop, order_id)

    def _new_order(self, sim):
        sim.add_order(lines=LINES, receiver=RECEIVER)
        return str(list(sim.orders)[-1])

    def _pull(self, sim, shop, hours=24):
        now = sim.now().replace(tzinfo=None) + timedelta(minutes=1)
        shop.sync_cursor = now - timedelta(hours=hours)
        log = shop._platform_pull(now=now)
        self.assertIn(log.state, ("done", "partial"), f"{shop.platform}: {log.error_message}")
        return log

    def _order(self, shop, platform_order_id):
        return self.env["sale.order"].search(
            [("shop_id", "=", shop.id), ("platform_order_id", "=", platform_order_id)]
        )

    def _hand_over(self, order, waybill):
        picking = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        picking.write({"carrier_id": self.sf_method.id, "carrier_account_id": self.sf_account.id})
        picking._set_logistics_state("routed")
        picking.waybill_number = waybill
        picking._set_logistics_state("waybill_issued")
        picking._set_logistics_state("handed_over")
        self.assertEqual(len(self._run_ship_back_jobs(picking)), 1, "one ship-back job per hand-over")
        return picking

    def _ship_back_jobs(self, picking, due_now=True):
        jobs = self.env["queue.job"].search(
            [("method_name", "=", "_platform_ship_back_job"), ("state", "=", "pending")]
        ).filtered(lambda job: picking in job.records)
        return jobs.filtered(lambda job: not job.eta) if due_now else jobs.filtered("eta")

    def _run_ship_back_jobs(self, picking, due_now=True):
        jobs = self._ship_back_jobs(picking, due_now)
        for record in jobs:
            job = Job.load(self.env, record.uuid)
            job.perform()
            job.set_done()
            job.store()
        return jobs

    def _refund_status(self, sim):
        return "refunded" if "refunded" in sim.STATUS_ALIASES else "refund_requested"

    # ------------------------------------------------------------------ tests

    def test_pull_pages_across_the_window_limit(self):
        for code in PLATFORMS:
            with self.subTest(platform=code):
                sim, shop = self._platform(code)
                shop.sync_page_size = 2
                ids = [self._new_order(sim) for _ in range(5)]
                log = self._pull(sim, shop, hours=26)
                self.assertEqual(log.state, "done", log.error_message)
                self.assertEqual(len(self.env["sale.order"].search([("shop_id", "=", shop.id)])), 5)
                self.assertEqual(set(self.env["sale.order"].search([("shop_id", "=", shop.id)]).mapped("platform_order_id")), set(ids))
                max_window = shop._platform_client().max_window
                if max_window < timedelta(hours=26):
                    self.assertGreater(log.window_end - log.window_start, max_window)
                # Pulled again: the overlap brings the same orders, which stay five.
                self._pull(sim, shop, hours=26)
                self.assertEqual(self.env["sale.order"].search_count([("shop_id", "=", shop.id)]), 5)

    def test_push_accepted_and_forged_push_refused(self):
        for code in PLATFORMS:
            sim = make_simulator(code)
            if sim.PUSH_CHANNEL != "http":
                continue  # TOP TMC and PDD's websocket: see test_message_channels
            with self.subTest(platform=code):
                sim, shop = self._platform(code)
                order_id = self._new_order(sim)
                sim.tamper_next_push = True
                self.env.flush_all()
                with mute_logger(CONTROLLER_LOGGER):
                    status, _body = sim.push(order_id, "paid")
                self.env.invalidate_all()
                self.assertNotEqual(status, 200, f"{code}: a forged push was accepted")
                self.assertFalse(self._order(shop, order_id))
                status, body = sim.push(order_id, "paid")
                self.env.invalidate_all()
                self.assertTrue(sim.push_accepted(status, body), f"{code}: {status} {body}")
                run_push_jobs(self)
                self.assertEqual(len(self._order(shop, order_id)), 1)
                self.assertEqual(self._order(shop, order_id).state, "sale")

    def test_cancelled_before_shipping_holds_the_order_and_cancels_the_delivery(self):
        for code in PLATFORMS:
            with self.subTest(platform=code):
                sim, shop, order_id, order = self._pulled_order(code)
                self.assertEqual(order.state, "sale")
                sim.advance(5)
                sim.update_order(order_id, status="cancelled")
                self._pull(sim, shop)
                self.assertEqual(order.audit_state, "on_hold")
                self.assertIn("platform_cancel", order.active_hold_ids.mapped("reason"))
                self.assertEqual(set(order.picking_ids.mapped("state")), {"cancel"})
                self.assertFalse(order.platform_after_sales)

    def test_refund_after_shipping_flags_after_sales(self):
        for code in PLATFORMS:
            with self.subTest(platform=code):
                sim, shop, order_id, order = self._pulled_order(code)
                picking = self._hand_over(order, f"SF{code.upper()[:3]}0001")
                sim.advance(5)
                sim.update_order(order_id, status=self._refund_status(sim))
                self._pull(sim, shop)
                self.assertTrue(order.platform_after_sales, f"{code}: {order.platform_status}")
                self.assertNotEqual(picking.state, "cancel")
                self.assertFalse(order.active_hold_ids.filtered(lambda h: h.reason == "platform_cancel"))

    def test_waybill_goes_back_with_the_platform_carrier_code(self):
        for code in PLATFORMS:
            with self.subTest(platform=code):
                sim, shop, order_id, order = self._pulled_order(code)
                waybill = f"SF1{abs(hash(code)) % 10**11:011d}"
                picking = self._hand_over(order, waybill)
                self.assertEqual(picking.platform_ship_state, "sent", picking.platform_ship_error)
                self.assertTrue(picking.platform_shipped_at)
                shipments = [s for s in sim.shipments if str(s["platform_order_id"]) == order_id]
                self.assertEqual(len(shipments), 1, sim.shipments)
                self.assertEqual(shipments[0]["carrier_code"], SF_CODE_SEEN_BY[code])
                if code == "woocommerce":
                    notes = sim.notes[sim.record(order_id).id]
                    self.assertIn(waybill, notes[-1]["note"])
                else:
                    self.assertEqual(shipments[0]["waybill"], waybill)
                self.assertIn(sim.kind(sim.record(order_id)), ("shipped", "completed"))
                log = self.env["logistics.sync.log"].search(
                    [("shop_id", "=", shop.id), ("operation", "=", "ship_back")], limit=1
                )
                self.assertEqual(log.state, "done")
                # A second hand-over signal (a carrier scan) sends nothing twice.
                picking._set_logistics_state("in_transit")
                self.assertEqual(len([s for s in sim.shipments if str(s["platform_order_id"]) == order_id]), 1)

    def test_ship_back_retries_a_platform_outage_then_succeeds(self):
        sim, shop, order_id, order = self._pulled_order("jd")
        sim.inject("http500", "jingdong.pop.order.shipment", count=1)
        picking = self._hand_over(order, "SF1000000000001")
        self.assertEqual(picking.platform_ship_state, "failed")
        self.assertTrue(picking.platform_ship_next_try, "a passing failure is retried automatically")
        self.assertEqual(picking.platform_ship_attempts, 1)
        self.assertFalse(sim.shipments)
        retry = self._ship_back_jobs(picking, due_now=False)
        self.assertEqual(len(retry), 1)
        self.assertEqual(retry.channel, "root.ship_back")
        self._run_ship_back_jobs(picking, due_now=False)
        self.assertEqual(picking.platform_ship_state, "sent", picking.platform_ship_error)
        self.assertEqual(len(sim.shipments), 1)
        self.assertEqual(
            self.env["logistics.sync.log"].search([("shop_id", "=", shop.id), ("operation", "=", "ship_back")]).mapped("state"),
            ["done", "failed"],
        )

    def test_ship_back_refresh_an_expired_token(self):
        sim, shop, _order_id, order = self._pulled_order("douyin")
        sim.expire_token()
        old_token = shop.access_token
        picking = self._hand_over(order, "SF1000000000002")
        self.assertEqual(picking.platform_ship_state, "sent", picking.platform_ship_error)
        self.assertNotEqual(shop.access_token, old_token)

    def test_unknown_carrier_code_fails_without_retry_until_mapped(self):
        sim, shop, order_id, order = self._pulled_order("pinduoduo")
        self.sf_account.express_code = "XYZ"
        try:
            picking = self._hand_over(order, "XYZ000001")
            self.assertEqual(picking.platform_ship_state, "failed")
            self.assertIn("XYZ", picking.platform_ship_error)
            self.assertFalse(picking.platform_ship_next_try)
            self.assertFalse(sim.shipments)
            self.assertEqual(shop.ship_back_failed_count, 1)
            self.env["logistics.platform.carrier"].create(
                {"platform": "pinduoduo", "express_code": "XYZ", "platform_code": "183", "platform_name": "跨越速运"}
            )
            result = picking.action_platform_ship_back()
            self.assertEqual(result["params"]["type"], "success")
            self.assertEqual(picking.platform_ship_state, "sent")
            self.assertEqual(sim.shipments[0]["carrier_code"], "KYE")
        finally:
            self.sf_account.express_code = "SF"

    def test_order_cancelled_on_platform_is_not_marked_shipped(self):
        sim, shop, order_id, order = self._pulled_order("kuaishou")
        # Cancelled on the platform after Odoo's last pull: the re-check before shipping catches it.
        sim.advance(2)
        sim.update_order(order_id, status="cancelled")
        picking = self._hand_over(order, "SF1000000000003")
        self.assertEqual(picking.platform_ship_state, "failed")
        self.assertFalse(picking.platform_ship_next_try)
        self.assertTrue(order.platform_after_sales)
        self.assertFalse(sim.shipments)

    def test_pilot_shop_keeps_the_waybill_until_released(self):
        sim, shop, order_id, order = self._pulled_order("youzan")
        shop.sync_pilot = True
        picking = order.picking_ids
        picking.write({"carrier_id": self.sf_method.id, "carrier_account_id": self.sf_account.id,
                       "waybill_number": "SF1000000000004"})
        for state in ("routed", "waybill_issued", "handed_over"):
            picking._set_logistics_state(state)
        self.assertEqual(picking.platform_ship_state, "pilot")
        self.assertFalse(sim.shipments)
        shop.sync_pilot = False
        picking.action_platform_ship_back()
        self.assertEqual(picking.platform_ship_state, "sent")
        self.assertEqual(len(sim.shipments), 1)

    def test_message_channels_bring_orders_and_acknowledge_them(self):
        """Taobao (TMC) and Pinduoduo (websocket) do not push over HTTP: Odoo reads their channels."""
        import time

        for code in ("taobao", "pinduoduo"):
            with self.subTest(platform=code):
                sim, shop = self._platform(code)
                if code == "pinduoduo":
                    shop.message_url = sim.base_url.replace("http://", "ws://")
                shop._platform_consume_messages()
                self.assertTrue(sim.messages_permitted, "the first read subscribes the seller")
                order_id = self._new_order(sim)
                sim.push(order_id, "paid")
                sim.push(order_id, "paid")
                self.assertEqual(shop._platform_consume_messages(), 2)
                self.assertEqual(len(self._order(shop, order_id)), 1)
                deadline = time.monotonic() + 5
                while sim.queue.pending() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertFalse(sim.queue.pending(), "handled messages are acknowledged")
                log = self.env["logistics.sync.log"].search(
                    [("shop_id", "=", shop.id), ("operation", "=", "push")], limit=1
                )
                self.assertEqual((log.state, log.received_count), ("done", 2))
                # Anyone posting a "push" for these platforms over HTTP proves nothing and is refused.
                with mute_logger(CONTROLLER_LOGGER):
                    response = self.url_open(f"/platform/push/{shop.code}", data=b'{"topic": "x"}')
                self.assertEqual(response.status_code, 401)

    def test_receiver_is_decrypted_by_the_platform_and_never_stored(self):
        for code in ("pinduoduo", "douyin", "youzan", "kuaishou", "taobao"):
            with self.subTest(platform=code):
                partners_before = self.env["res.partner"].search_count([("name", "=", "王小明")])
                sim, shop, order_id, order = self._pulled_order(code)
                picking = order.picking_ids
                stored = order.partner_shipping_id
                self.assertNotIn("王小明", stored.name or "", f"{code}: the platform sent plaintext")
                receiver = picking._logistics_receiver()
                self.assertEqual(receiver.name, "王小明")
                self.assertEqual(receiver.mobile, "13800138000")
                self.assertIn("建国路88号", receiver.street)
                self.assertFalse(receiver.id, "decrypted data is not stored")
                self.assertEqual(picking.receiver_phone_tail, "8000", "the tracking page can check the phone tail")
                self.assertNotIn("王小明", stored.name or "")
                self.assertEqual(self.env["res.partner"].search_count([("name", "=", "王小明")]), partners_before)
                self.assertTrue(sim.decrypt_log, f"{code}: decrypted through the platform's own call")

    def test_replayed_webhooks_with_duplicates_and_reordering_give_each_order_once(self):
        """Shopify and WooCommerce webhooks carry the whole order: an older version arriving last must not win."""
        import random

        import requests

        rng = random.Random(7)
        for code in ("shopify", "woocommerce"):
            with self.subTest(platform=code):
                sim, shop = self._platform(code)
                deliveries, latest_memo = [], {}
                for index in range(40):
                    order_id = self._new_order(sim)
                    record = sim.record(order_id)
                    deliveries.append(sim.build_push(record, "paid", sim.push_secret()))
                    sim.advance(1)
                    memo = f"v2-{index}"
                    sim.update_order(order_id, remark=memo)
                    latest_memo[order_id] = memo
                    deliveries.append(sim.build_push(sim.record(order_id), "updated", sim.push_secret()))
                deliveries += rng.sample(deliveries, len(deliveries) // 3)  # redeliveries
                rng.shuffle(deliveries)
                self.env.flush_all()
                for body, headers in deliveries:
                    response = requests.post(sim.webhook_url, data=body, headers=headers, timeout=10)
                    self.assertTrue(sim.push_accepted(response.status_code, response.text), response.text)
                self.env.invalidate_all()
                run_push_jobs(self)
                orders = self.env["sale.order"].search([("shop_id", "=", shop.id)])
                self.assertEqual(sorted(orders.mapped("platform_order_id")), sorted(latest_memo))
                for order in orders:
                    self.assertEqual(order.buyer_remark, latest_memo[order.platform_order_id], order.platform_order_id)
                received = self.env["logistics.platform.inbox"].search_count([("shop_id", "=", shop.id)])
                self.assertEqual(received, len(deliveries), "every delivery is kept, duplicates included")
