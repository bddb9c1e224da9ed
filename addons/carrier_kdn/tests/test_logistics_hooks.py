from odoo.tests import tagged

from .common import KdniaoCase


@tagged("post_install", "-at_install")
class TestLogisticsHooks(KdniaoCase):
    """The shared hooks label printing uses: issuing missing waybills in a batch, and the routing on the label."""

    def test_issue_waybills_in_a_batch_reports_each_failure(self):
        good = self._delivery() | self._delivery(carrier=self.zto)
        incomplete = self._delivery(buyer=self._buyer("王五", "13800001111", "文三路1号", "杭州市", "base.state_cn_ZJ"))
        failures = (good | incomplete)._logistics_issue_waybills()
        self.assertEqual(list(failures), [incomplete])
        self.assertIn("district", failures[incomplete])
        self.assertEqual(incomplete.kdniao_error, failures[incomplete])
        self.assertTrue(all(good.mapped("waybill_number")))
        self.assertEqual(set(good.mapped("logistics_state")), {"waybill_issued"})
        before = len(self._requests("1007"))
        self.assertEqual(good._logistics_issue_waybills(), {})
        self.assertEqual(len(self._requests("1007")), before, "deliveries with a waybill are left alone")

    def test_deliveries_of_other_carriers_go_through_their_shipping_method(self):
        picking = self._delivery()
        picking.carrier_id = False
        failures = picking._logistics_issue_waybills()
        self.assertIn("has no shipping method", failures[picking])

    def test_label_routing_comes_from_the_waybill_answer(self):
        picking = self._delivery()
        empty = {"mark_destination": "", "sorting_code": "", "package_name": "", "sub_waybills": []}
        self.assertEqual(picking._label_routing(), empty)
        picking.action_kdniao_issue_waybill()
        picking.kdniao_sub_waybills = "SF0000000000002,SF0000000000003"
        routing = picking._label_routing()
        self.assertEqual(routing["mark_destination"], picking.kdniao_mark_destination)
        self.assertEqual(routing["sorting_code"], picking.kdniao_sorting_code)
        self.assertEqual(routing["package_name"], picking.kdniao_package_name)
        self.assertTrue(routing["mark_destination"] and routing["sorting_code"])
        self.assertEqual(routing["sub_waybills"], ["SF0000000000002", "SF0000000000003"])
