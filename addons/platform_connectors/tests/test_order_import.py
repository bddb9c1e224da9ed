"""Orders imported from CSV and Excel exports of shops without an API: real files, the same inbox, SKU mapping
and upsert path as the connectors."""

import base64
import csv
import io
from datetime import datetime

import openpyxl

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.platform_connectors import order_files

CHINESE_HEADERS = ["订单编号", "买家昵称", "收货人", "手机", "省", "市", "区", "详细地址", "商家编码", "商品名称", "数量",
                   "单价", "运费", "买家留言", "卖家备注", "付款时间"]
BEIJING = ["王小明", "13800138000", "北京市", "北京市", "朝阳区", "建国路88号"]
SHANGHAI = ["李华", "13900139000", "上海市", "上海市", "浦东新区", "世纪大道100号"]


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def order_row(order_id, receiver, code, title, quantity, price, remark="", paid="2024-05-01 10:00:00", freight="0"):
    return [order_id, "buyer-" + order_id, *receiver, code, title, quantity, price, freight, remark, "", paid]


@tagged("post_install", "-at_install")
class TestOrderImport(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.cup = cls.env["product.product"].create(
            {"name": "保温杯", "default_code": "FI-CUP", "type": "consu", "is_storable": True, "list_price": 89}
        )
        cls.lid = cls.env["product.product"].create(
            {"name": "杯盖", "default_code": "FI-LID", "type": "consu", "list_price": 10}
        )
        cls.shop = cls.env["logistics.shop"].create({"name": "Weidian test", "code": "FI-WD", "platform": "manual"})

    def _wizard(self, content, file_name="orders.csv", env=None, **values):
        return (env or self.env)["logistics.order.import"].create(
            dict({"shop_id": self.shop.id, "file": base64.b64encode(content), "file_name": file_name}, **values)
        )

    def _import(self, content, file_name="orders.csv", **values):
        wizard = self._wizard(content, file_name, timezone="Asia/Shanghai", **values)
        wizard.action_import()
        return wizard

    def _orders(self, *platform_order_ids):
        return self.env["sale.order"].search(
            [("shop_id", "=", self.shop.id), ("platform_order_id", "in", list(platform_order_ids))]
        )

    def test_utf8_csv_multi_line_orders_go_through_the_inbox_and_are_confirmed(self):
        content = csv_bytes(
            [
                CHINESE_HEADERS,
                order_row("FI-1001", BEIJING, "FI-CUP", "保温杯", "2", "89.00", remark="尽快发货", freight="10"),
                order_row("FI-1001", BEIJING, "FI-LID", "杯盖", "1", "10"),
                order_row("FI-1002", SHANGHAI, "FI-CUP", "保温杯", "1", "89"),
            ],
            "utf-8-sig",
        )
        wizard = self._import(content)
        first, second = self._orders("FI-1001"), self._orders("FI-1002")
        self.assertEqual(first.state, "sale")
        self.assertEqual(second.state, "sale")
        self.assertEqual(first.order_line.filtered(lambda l: l.product_id == self.cup).product_uom_qty, 2)
        self.assertEqual(first.order_line.filtered(lambda l: l.product_id == self.lid).product_uom_qty, 1)
        freight_product = self.env.ref("platform_connectors.product_platform_freight")
        freight = first.order_line.filtered(lambda l: l.product_id == freight_product)
        self.assertEqual(freight.price_unit, 10)
        self.assertEqual(first.buyer_remark, "尽快发货")
        self.assertEqual(first.buyer_nick, "buyer-FI-1001")
        self.assertEqual(first.paid_at, datetime(2024, 5, 1, 2, 0))
        self.assertEqual(first.partner_id.name, "王小明")
        self.assertEqual(first.partner_id.mobile, "13800138000")
        self.assertEqual(first.partner_id.state_id, self.env.ref("base.state_cn_BJ"))
        inbox = self.env["logistics.platform.inbox"].search([("shop_id", "=", self.shop.id)])
        self.assertEqual(set(inbox.mapped("source")), {"import"})
        self.assertEqual(set(inbox.mapped("state")), {"done"})
        self.assertEqual(len(first.platform_raw["rows"]), 2)
        log = wizard.sync_log_id
        self.assertEqual((log.operation, log.state), ("import", "done"))
        self.assertEqual((log.received_count, log.created_count, log.error_count), (2, 2, 0))
        self.assertEqual(wizard.order_ids, first | second)
        self.assertEqual(wizard.state, "done")

    def test_gbk_csv_columns_are_guessed_from_chinese_headers(self):
        headers = ["订单号", "收件人", "联系电话", "收货地址", "商家编码", "宝贝标题", "数量", "单价(元)", "订单备注",
                   "付款时间"]
        rows = [
            headers,
            ["FI-2001", "张三", "13700001111", "浙江省 杭州市 西湖区 文三路90号(310012)", "FI-CUP", "保温杯", "3",
             "￥89.00", "顺丰", "2024/05/02 11:00"],
        ]
        wizard = self._wizard(csv_bytes(rows, "gbk"), timezone="Asia/Shanghai")
        self.assertEqual(wizard.file_type, "csv")
        self.assertEqual(
            wizard._columns(),
            {
                "order_id": "订单号",
                "receiver_name": "收件人",
                "receiver_mobile": "联系电话",
                "receiver_street": "收货地址",
                "merchant_code": "商家编码",
                "title": "宝贝标题",
                "quantity": "数量",
                "unit_price": "单价(元)",
                "seller_memo": "订单备注",
                "paid_at": "付款时间",
            },
        )
        wizard.action_import()
        order = self._orders("FI-2001")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.order_line.product_uom_qty, 3)
        self.assertEqual(order.order_line.price_unit, 89)
        self.assertEqual(order.seller_memo, "顺丰")
        self.assertEqual(order.paid_at, datetime(2024, 5, 2, 3, 0))
        self.assertEqual(order.partner_id.city, "杭州市")
        self.assertEqual(order.partner_id.street, "西湖区文三路90号")
        self.assertEqual(order.partner_id.zip, "310012")

    def test_wrong_or_undecodable_encoding_is_a_clear_user_error(self):
        gbk = csv_bytes([CHINESE_HEADERS, order_row("FI-3001", BEIJING, "FI-CUP", "保温杯", "1", "89")], "gbk")
        wizard = self._wizard(gbk, csv_encoding="utf-8")
        with self.assertRaisesRegex(UserError, "not UTF-8 text"):
            wizard.action_import()
        self.assertIn("alert-danger", wizard.preview)
        wizard.csv_encoding = "gbk"
        self.assertEqual(wizard._columns()["order_id"], "订单编号")
        with self.assertRaisesRegex(UserError, "could not be opened as an Excel workbook"):
            self._wizard(b"PK\x03\x04 not really a workbook", "orders.xlsx").action_import()
        with self.assertRaisesRegex(UserError, "not a text file"):
            self._wizard(b"\x00\x01\x02 binary", "orders.csv", csv_encoding="utf-8").action_import()
        with self.assertRaisesRegex(UserError, "no order rows"):
            self._wizard(csv_bytes([CHINESE_HEADERS])).action_import()

    def test_xlsx_with_a_title_row_dates_and_numbers(self):
        rows = [
            ["微店订单导出 2024-05-03"],
            ["Order ID", "Receiver", "Mobile", "Province", "City", "District", "Address", "SKU", "Product", "Quantity",
             "Unit Price", "Shipping", "Paid Time"],
            [880001, "Wang", "13800138000", "北京市", "北京市", "朝阳区", "建国路88号", "FI-CUP", "Cup", 2, 89.5, 8,
             datetime(2024, 5, 3, 9, 30)],
            [880001, "Wang", "13800138000", "北京市", "北京市", "朝阳区", "建国路88号", "FI-LID", "Lid", 1, 10, 8,
             datetime(2024, 5, 3, 9, 30)],
        ]
        wizard = self._wizard(xlsx_bytes(rows), "orders.xlsx", timezone="Asia/Shanghai")
        self.assertEqual(wizard._columns(), {})
        wizard.header_row = 2
        self.assertEqual(wizard.file_type, "xlsx")
        self.assertEqual(wizard._columns()["merchant_code"], "SKU")
        wizard.action_import()
        order = self._orders("880001")
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.paid_at, datetime(2024, 5, 3, 1, 30))
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id == self.cup).price_unit, 89.5)
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id == self.lid).price_unit, 10)
        self.assertEqual(sum(order.order_line.mapped("price_unit")), 89.5 + 10 + 8)

    def test_unmapped_sku_holds_the_order_until_it_is_mapped(self):
        content = csv_bytes(
            [CHINESE_HEADERS, order_row("FI-4001", BEIJING, "FI-GIFT-BOX", "礼盒", "1", "199")]
        )
        self._import(content)
        order = self._orders("FI-4001")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.audit_state, "on_hold")
        hold = order.active_hold_ids
        self.assertEqual(hold.reason, "sku")
        self.assertIn("FI-GIFT-BOX", hold.detail)
        self.env["logistics.sku.mapping"].create(
            {"merchant_code": "FI-GIFT-BOX", "line_ids": [Command.create({"product_id": self.cup.id, "quantity": 2})]}
        )
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.active_hold_ids)
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id == self.cup).product_uom_qty, 2)

    def test_reimport_updates_the_same_orders(self):
        rows = [
            CHINESE_HEADERS,
            order_row("FI-5001", BEIJING, "FI-CUP", "保温杯", "1", "89"),
            order_row("FI-5002", SHANGHAI, "FI-UNMAPPED", "赠品", "1", "0"),
        ]
        first = self._import(csv_bytes(rows))
        rows[1] = order_row("FI-5001", BEIJING, "FI-CUP", "保温杯", "1", "89", remark="改为周末送货")
        again = self._import(csv_bytes(rows))
        self.assertEqual(len(self._orders("FI-5001", "FI-5002")), 2)
        self.assertEqual((first.sync_log_id.created_count, first.sync_log_id.updated_count), (2, 0))
        self.assertEqual((again.sync_log_id.created_count, again.sync_log_id.updated_count), (0, 2))
        self.assertEqual(self._orders("FI-5001").buyer_remark, "改为周末送货")
        self.assertEqual(len(self._orders("FI-5002").active_hold_ids), 1)
        self.assertEqual(again.held_count, 1)

    def test_malformed_rows_are_reported_and_the_good_orders_imported(self):
        rows = [
            CHINESE_HEADERS,
            order_row("FI-6001", BEIJING, "FI-CUP", "保温杯", "1", "89"),
            order_row("", BEIJING, "FI-CUP", "保温杯", "1", "89"),
            order_row("FI-6002", BEIJING, "FI-CUP", "保温杯", "two", "89"),
            order_row("FI-6003", SHANGHAI, "FI-CUP", "保温杯", "1", "89", paid="yesterday"),
            order_row("FI-6004", SHANGHAI, "FI-CUP", "保温杯", "1", "89"),
            order_row("FI-6004", SHANGHAI, "FI-LID", "杯盖", "1", "ten"),
            order_row("FI-6005", SHANGHAI, "", "", "1", "89"),
        ]
        wizard = self._wizard(csv_bytes(rows), timezone="Asia/Shanghai")
        self.assertIn("Row 4: quantity “two”", wizard.preview)
        wizard.action_import()
        imported = self._orders("FI-6001", "FI-6002", "FI-6003", "FI-6004", "FI-6005")
        self.assertEqual(imported.mapped("platform_order_id"), ["FI-6001"])
        log = wizard.sync_log_id
        self.assertEqual(log.state, "partial")
        self.assertEqual((log.created_count, log.error_count, log.received_count), (1, 6, 6))
        for expected in (
            "Row 3: Platform Order ID (column “订单编号”) is empty.",
            "Row 4: quantity “two” (column “数量”) is not a whole number above zero.",
            "Row 5: paid time “yesterday” (column “付款时间”) is not a date and time",
            "Row 6: order FI-6004 is left out because another of its rows has an error.",
            "Row 7: Unit Price “ten” (column “单价”) is not an amount.",
            "Row 8: no SKU ID, merchant code or product title.",
        ):
            self.assertIn(expected, log.error_message)

    def test_saved_profile_is_reused_for_the_next_file(self):
        headers = ["单据号", "客户", "货品代码", "件数"]
        content = csv_bytes([headers, ["FI-7001", "王五", "FI-CUP", "4"]], "gbk")
        wizard = self._wizard(content)
        self.assertFalse(wizard.profile_id)
        self.assertEqual(wizard._columns(), {})
        with self.assertRaisesRegex(UserError, "platform order ID"):
            wizard.action_import()
        wizard.column_ids = [
            Command.create({"order_field": "order_id", "column": "单据号"}),
            Command.create({"order_field": "receiver_name", "column": "客户"}),
            Command.create({"order_field": "merchant_code", "column": "货品代码"}),
            Command.create({"order_field": "quantity", "column": "件数"}),
        ]
        wizard.action_save_profile()
        profile = wizard.profile_id
        self.assertEqual(profile.shop_id, self.shop)
        self.assertEqual(profile._columns()["merchant_code"], "货品代码")

        next_file = csv_bytes([headers, ["FI-7002", "赵六", "FI-LID", "2"]], "gbk")
        reused = self._wizard(next_file)
        self.assertEqual(reused.profile_id, profile)
        reused.action_import()
        self.assertEqual(self._orders("FI-7002").order_line.product_id, self.lid)

        wrong_file = self._wizard(csv_bytes([["订单编号", "商家编码"], ["FI-7003", "FI-CUP"]]))
        self.assertIn("Not in the file: “单据号”", wrong_file.preview)
        self.assertNotIn("<table", wrong_file.preview)
        with self.assertRaisesRegex(UserError, "Not in the file: “单据号”"):
            wrong_file.action_import()
        wrong_file.profile_id = False
        self.assertEqual(wrong_file._columns(), {"order_id": "订单编号", "merchant_code": "商家编码"})

    def test_logistics_user_imports_but_does_not_edit_profiles(self):
        clerk = new_test_user(self.env, "fi-clerk", groups="shop_logistics.group_logistics_user")
        content = csv_bytes([CHINESE_HEADERS, order_row("FI-8001", BEIJING, "FI-CUP", "保温杯", "1", "89")])
        wizard = self._wizard(content, env=self.env(user=clerk))
        wizard.action_import()
        self.assertEqual(self._orders("FI-8001").state, "sale")
        self.assertEqual(wizard.sync_log_id.created_count, 1)
        with self.assertRaises(AccessError):
            self.env["logistics.import.profile"].with_user(clerk).create({"name": "Clerk's profile"})

    def test_failed_file_payload_is_processed_again_from_the_inbox(self):
        content = csv_bytes([CHINESE_HEADERS, order_row("FI-9001", BEIJING, "FI-CUP", "保温杯", "1", "89")])
        self._import(content)
        message = self.env["logistics.platform.inbox"].search([("platform_order_id", "=", "FI-9001")])
        message.write({"state": "error", "error": "simulated"})
        message.action_retry()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.order_id, self._orders("FI-9001"))

    def test_file_module_reads_english_headers_and_whole_addresses(self):
        self.assertEqual(
            order_files.guess_columns(["Order No.", "Recipient", "Phone", "Address", "Seller SKU", "Qty", "Price"]),
            {
                "order_id": "Order No.",
                "receiver_name": "Recipient",
                "receiver_phone": "Phone",
                "receiver_street": "Address",
                "merchant_code": "Seller SKU",
                "quantity": "Qty",
                "unit_price": "Price",
            },
        )
        self.assertEqual(
            order_files.split_full_address("北京 北京市 朝阳区 建国路88号 SOHO现代城"),
            ("北京", "北京市", "朝阳区", "建国路88号 SOHO现代城", ""),
        )
        self.assertEqual(order_files.split_full_address("123 Main Street"), ("", "", "", "123 Main Street", ""))
        self.assertEqual(order_files.clean_cell('="4001234567890123"'), "4001234567890123")
        self.assertEqual(order_files.clean_cell("'13800138000"), "13800138000")
        selection = self.env["logistics.import.profile.line"]._fields["order_field"].selection
        self.assertEqual({key for key, _label in selection}, set(order_files.FIELDS))
