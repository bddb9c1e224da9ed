import re

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from .common import KdniaoCase


@tagged("post_install", "-at_install")
class TestKdniaoWaybill(KdniaoCase):
    def test_issue_stores_waybill_label_and_routing_codes(self):
        picking = self._delivery()
        picking.action_kdniao_issue_waybill()
        self.assertRegex(picking.waybill_number, r"^SF\d{13}$")
        self.assertEqual(picking.carrier_tracking_ref, picking.waybill_number)
        self.assertEqual(picking.carrier_account_id.express_code, "SF")
        self.assertEqual(picking.logistics_state, "waybill_issued")
        self.assertTrue(picking.kdniao_mark_destination)
        self.assertTrue(picking.kdniao_sorting_code)
        self.assertTrue(picking.kdniao_package_name)
        self.assertTrue(picking.kdniao_subscribed)
        self.assertTrue(picking.kdniao_expected_date)
        self.assertEqual(picking.label_attachment_id.mimetype, "text/html")
        self.assertIn(picking.waybill_number.encode(), picking.label_attachment_id.raw)
        request = self._requests("1007")[-1]["data"]
        self.assertEqual(request["OrderCode"], picking.kdniao_order_code)
        self.assertEqual(request["MonthCode"], "7551234567")
        self.assertEqual(request["Receiver"]["ProvinceName"], "广东省")
        self.assertEqual(request["Receiver"]["ExpAreaName"], "南山区")
        self.assertEqual(request["Receiver"]["Address"], "科技园南区1栋201")
        self.assertEqual(request["Sender"]["ExpAreaName"], "余杭区")
        self.assertEqual(request["Commodity"][0]["GoodsCode"], "TC-1")
        self.assertEqual(request["IsSubscribe"], "1")

    def test_issuing_twice_calls_kdniao_once(self):
        picking = self._delivery()
        picking.action_kdniao_issue_waybill()
        first = picking.waybill_number
        before = len(self._requests("1007"))
        picking.action_kdniao_issue_waybill()
        picking._kdniao_issue_waybill()
        self.assertEqual(picking.waybill_number, first)
        self.assertEqual(len(self._requests("1007")), before)

    def test_retry_after_a_lost_answer_gets_the_same_waybill(self):
        picking = self._delivery(carrier=self.zto)
        # Odoo's test framework raises any client timeout below 10 s to 10 s: the answer comes after 10.5 s.
        self.kdniao.timeout = 1
        self.sim.inject("timeout", request_type="1007", seconds=10.5)
        with self.assertRaises(UserError) as caught:
            picking.action_kdniao_issue_waybill()
        self.assertIn("could not be reached", str(caught.exception))
        self.assertFalse(picking.waybill_number)
        # KDNiao did make the waybill; the retry must get it back (106), not a second one.
        picking.action_kdniao_issue_waybill()
        issued = [number for number, waybill in self.sim.waybills.items() if waybill["order_code"] == picking.kdniao_order_code]
        self.assertEqual(issued, [picking.waybill_number])
        self.assertRegex(picking.waybill_number, r"^7\d{13}$")

    def test_carrier_refusal_is_a_clear_message(self):
        self.zto_account = self.env["logistics.carrier.account"].search([("express_code", "=", "ZTO")])
        self.zto_account.kdniao_customer_pwd = False
        picking = self._delivery(carrier=self.zto)
        with self.assertRaises(UserError) as caught:
            picking.action_kdniao_issue_waybill()
        self.assertIn("a required field is missing", str(caught.exception))
        self.assertFalse(picking.waybill_number)

    def test_incomplete_address_never_reaches_kdniao(self):
        buyer = self._buyer("王五", "13800001111", "文三路1号", "杭州市", "base.state_cn_ZJ")
        picking = self._delivery(buyer=buyer)
        before = len(self._requests("1007"))
        with self.assertRaises(UserError) as caught:
            picking.action_kdniao_issue_waybill()
        self.assertIn("district", str(caught.exception))
        self.assertEqual(len(self._requests("1007")), before)

    def test_batch_lists_failures_and_issues_the_rest(self):
        good = self._delivery() | self._delivery(carrier=self.zto)
        bad = self._delivery(buyer=self._buyer("赵六", "", "南山区科技园1号", "深圳市", "base.state_cn_GD"))
        with mute_logger("odoo.addons.carrier_kdn.models.stock_picking"):
            action = (good | bad).action_kdniao_issue_waybill()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("2 of 3", action["params"]["message"])
        self.assertTrue(all(good.mapped("waybill_number")))
        self.assertFalse(bad.waybill_number)
        self.assertIn("mobile", bad.kdniao_error)

    def test_cancel_frees_the_waybill_and_a_new_one_gets_a_new_order_code(self):
        picking = self._delivery(carrier=self.zto)
        picking.action_kdniao_issue_waybill()
        first_waybill, first_code = picking.waybill_number, picking.kdniao_order_code
        picking.action_kdniao_cancel_waybill()
        self.assertFalse(picking.waybill_number)
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertEqual(picking.logistics_state, "routed")
        self.assertTrue(self.sim.waybills[first_waybill]["cancelled"])
        picking.action_kdniao_issue_waybill()
        self.assertNotEqual(picking.waybill_number, first_waybill)
        self.assertNotEqual(picking.kdniao_order_code, first_code)

    def test_cancel_is_refused_once_the_carrier_has_the_parcel(self):
        picking = self._delivery()
        picking.action_kdniao_issue_waybill()
        picking._set_logistics_state("handed_over")
        with self.assertRaises(UserError):
            picking.action_kdniao_cancel_waybill()
        self.assertTrue(picking.waybill_number)

    def test_validation_sends_to_shipper_once(self):
        picking = self._delivery()
        picking.picking_type_id.print_label = True
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertRegex(picking.waybill_number or "", r"^SF\d{13}$")
        self.assertEqual(picking.logistics_state, "handed_over")
        self.assertEqual(len([r for r in self._requests("1007") if r["data"]["OrderCode"] == picking.kdniao_order_code]), 1)

    def test_background_job_retries_transient_failures(self):
        picking = self._delivery()
        picking.action_kdniao_issue_waybill_in_background()
        job_record = self.env["queue.job"].search([("model_name", "=", "stock.picking"), ("method_name", "=", "_kdniao_issue_waybill_job")])
        self.assertEqual(len(job_record), 1)
        self.assertEqual(job_record.channel, "root.carrier")
        self.sim.inject("http500", request_type="1007")
        with self.assertRaises(RetryableJobError):
            Job.load(self.env, job_record.uuid).perform()
        self.assertFalse(picking.waybill_number)
        Job.load(self.env, job_record.uuid).perform()
        self.assertTrue(picking.waybill_number)

    def test_rate_shipment_uses_the_carrier_price(self):
        order = self._delivery().sale_id
        result = self.sf.rate_shipment(order)
        self.assertTrue(result["success"])
        self.assertEqual(result["price"], 12.0)

    def test_debug_log_hides_secrets(self):
        self.sf.debug_logging = True
        picking = self._delivery()
        picking.action_kdniao_issue_waybill()
        # log_xml writes with its own cursor so that the log survives a rollback: read it the same way.
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT message FROM ir_logging WHERE path = 'kdniao' AND message LIKE %s", (f"%{picking.kdniao_order_code}%",)
            )
            messages = [row[0] for row in cr.fetchall()]
        self.assertTrue(messages)
        self.assertTrue(any('"CustomerPwd"' in m or '"MonthCode"' in m for m in messages))
        self.assertFalse(re.search("7551234567", " ".join(messages)))

    def test_rate_limited_batch_waits_and_succeeds(self):
        pickings = self._delivery(carrier=self.zto) | self._delivery(carrier=self.zto)
        self.sim.inject("rate_limit", request_type="1007", count=2)
        action = pickings.action_kdniao_issue_waybill()
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(all(pickings.mapped("waybill_number")))

    def test_server_errors_and_garbage_are_clear_messages(self):
        for fault in ("http500", "garbage"):
            picking = self._delivery(carrier=self.zto)
            self.sim.inject(fault, request_type="1007")
            with self.assertRaises(UserError) as caught:
                picking.action_kdniao_issue_waybill()
            self.assertIn("could not be reached", str(caught.exception))
            self.assertFalse(picking.waybill_number)
