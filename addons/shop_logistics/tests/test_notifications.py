import re

from odoo.tests import tagged

from .. import logistics_state as ls
from .test_exceptions import ExceptionCase

PERSONAL = ("王小明", "13800138000", "138 0013 8000", "+8613800138000", "建国路", "北京市", "buyer@example.com")


@tagged("post_install", "-at_install")
class TestBuyerNotifications(ExceptionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer.write({"email": "buyer@example.com", "mobile": "+86 138 0013 8000"})
        cls.shop.write({"notify_by_email": True, "notify_by_sms": True, "notification_lang": "en_US"})

    def _shipped(self):
        picking = self._shipment("printed", label_hours=1)
        picking._set_logistics_state(ls.HANDED_OVER)
        return picking

    def _sent(self, picking, event=None):
        logs = picking.logistics_notification_ids.filtered(lambda n: n.state == "sent")
        return logs.filtered(lambda n: n.event == event) if event else logs

    def _mail(self, log):
        return self.env["mail.mail"].browse(log.mail_id.id)

    def test_each_event_sent_once_by_email_and_sms(self):
        picking = self._shipped()
        shipped = self._sent(picking, "shipped")
        self.assertEqual(sorted(shipped.mapped("channel")), ["email", "sms"])
        mail = self._mail(shipped.filtered(lambda n: n.channel == "email"))
        self.assertEqual(mail.recipient_ids, self.buyer)
        self.assertIn(picking.waybill_number, mail.body_html)
        self.assertIn(f"/track?ref={picking.waybill_number}", mail.body_html)
        sms = shipped.filtered(lambda n: n.channel == "sms").message_id
        self.assertEqual(sms.message_type, "sms")
        self.assertIn(picking.waybill_number, sms.body)
        self.assertIn("/track?ref=", sms.body)
        # The same event again (a retry, a second push, handed over then collected): nothing more.
        picking._logistics_notify("shipped")
        picking._set_logistics_state(ls.IN_TRANSIT)
        self.assertEqual(len(self._sent(picking, "shipped")), 2)
        picking._set_logistics_state(ls.OUT_FOR_DELIVERY)
        picking._set_logistics_state(ls.IN_TRANSIT)  # failed attempt, back to the depot
        picking._set_logistics_state(ls.OUT_FOR_DELIVERY)
        self.assertEqual(len(self._sent(picking, "out_for_delivery")), 2)
        picking._set_logistics_state(ls.DELIVERED)
        picking._logistics_notify("delivered")
        self.assertEqual(len(self._sent(picking, "delivered")), 2)
        self.assertEqual(len(picking.logistics_notification_ids), 6)

    def test_deliveries_moving_together_notify_each_buyer_once(self):
        pickings = self._shipment("printed", label_hours=1) | self._shipment("printed", label_hours=1)
        pickings._set_logistics_state(ls.HANDED_OVER)  # one notification job for both
        pickings._logistics_notify("shipped")  # again, as a second scan would: nothing more
        for picking in pickings:
            self.assertEqual(sorted(self._sent(picking, "shipped").mapped("channel")), ["email", "sms"])
        self.assertEqual(self._sent(pickings[0]).mail_id.recipient_ids, self.buyer)

    def test_exception_notice_with_what_happens_next(self):
        picking = self._shipment("out_for_delivery")
        self._event(picking, 1, status="exception", description="收件地址不详细", problem_kind="address_problem")
        log = self._sent(picking, "exception").filtered(lambda n: n.channel == "email")
        self.assertEqual(log.ticket_id, picking.logistics_ticket_ids)
        body = self._mail(log).body_html
        self.assertIn("Don&#39;t worry", body.replace("'", "&#39;"))
        self.assertIn("Address Problem", body)
        self.assertIn("confirm it", body)
        # A rule that does not notify the buyer (no update) sends nothing.
        silent = self._shipment("in_transit")
        self._event(silent, 60)
        self.assertTrue(silent.logistics_ticket_ids)
        self.assertFalse(self._sent(silent, "exception"))
        # Scanning again sends nothing more.
        (picking | silent)._logistics_check_exceptions()
        self.assertEqual(len(self._sent(picking, "exception")), 2)

    def test_switches_per_shop(self):
        self.shop.notify_shipped = False
        picking = self._shipped()
        self.assertFalse(picking.logistics_notification_ids)
        self.shop.write({"notify_out_for_delivery": True, "notify_by_sms": False})
        picking._set_logistics_state(ls.OUT_FOR_DELIVERY)
        self.assertEqual(self._sent(picking).mapped("channel"), ["email"])
        self.shop.write({"notify_delivered": False})
        picking._set_logistics_state(ls.DELIVERED)
        self.assertFalse(self._sent(picking, "delivered"))

    def test_buyer_without_email_or_mobile_is_skipped_once(self):
        self.buyer.write({"email": False, "mobile": False, "phone": False})
        picking = self._shipped()
        skipped = picking.logistics_notification_ids
        self.assertEqual(set(skipped.mapped("state")), {"skipped"})
        self.assertTrue(all(skipped.mapped("note")))
        picking._logistics_notify("shipped")
        self.assertEqual(picking.logistics_notification_ids, skipped)

    def test_orders_outside_the_shops_are_not_notified(self):
        picking = self._shipment("printed", label_hours=1)
        picking.sale_id.shop_id = False
        picking.flush_recordset()
        picking.invalidate_recordset(["shop_id"])
        picking._set_logistics_state(ls.HANDED_OVER)
        self.assertFalse(picking.logistics_notification_ids)

    def test_no_personal_data_in_notifications(self):
        picking = self._shipped()
        picking._set_logistics_state(ls.OUT_FOR_DELIVERY)
        self._event(picking, 1, status="exception", description="派送不成功", problem_kind="delivery_failed")
        picking._set_logistics_state(ls.DELIVERED)
        logs = self._sent(picking)
        self.assertEqual(set(logs.mapped("event")), {"shipped", "out_for_delivery", "exception", "delivered"})
        for log in logs:
            if log.channel == "email":
                mail = self._mail(log)
                text = f"{mail.subject}\n{mail.body_html}"
            else:
                text = log.message_id.body
            with self.subTest(event=log.event, channel=log.channel):
                self.assertIn(picking.waybill_number, text)
                for value in PERSONAL:
                    self.assertNotIn(value, re.sub(r"/track\?ref=\w+", "", text))

    def test_chinese_templates(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search([("name", "=", "shop_logistics")])._update_translations(["zh_CN"])
        self.shop.notification_lang = "zh_CN"
        picking = self._shipped()
        mail = self._mail(self._sent(picking, "shipped").filtered(lambda n: n.channel == "email"))
        self.assertIn("已发货", mail.subject)
        self.assertIn("运单号", mail.body_html)
        sms = self._sent(picking, "shipped").filtered(lambda n: n.channel == "sms").message_id
        self.assertIn("已发货", sms.body)
        self.shop.notification_lang = False
        self.buyer.lang = "en_US"
        self.assertEqual(picking.logistics_notification_lang, "en_US", "empty: the receiver's language")
