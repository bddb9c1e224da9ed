from odoo.tests import TransactionCase, tagged

from .. import remark_tags


@tagged("post_install", "-at_install")
class TestRemarkTagParser(TransactionCase):
    def test_longest_keyword_wins_and_consumes_its_text(self):
        tags = [(1, ["发韵达"]), (2, ["不要发韵达"]), (3, ["礼物"])]
        self.assertEqual(remark_tags.match_tags("不要发韵达，是礼物", tags), [2, 3])
        self.assertEqual(remark_tags.match_tags("请发韵达", tags), [1])

    def test_case_space_and_separators(self):
        self.assertEqual(remark_tags.split_keywords("指定顺丰，要顺丰;\n走顺丰 , "), ["指定顺丰", "要顺丰", "走顺丰"])
        self.assertEqual(remark_tags.match_tags("Please, URGENT !", [(7, ["urgent"])]), [7])
        self.assertEqual(remark_tags.match_tags("指 定 顺 丰", [(8, ["指定顺丰"])]), [8])
        self.assertEqual(remark_tags.match_tags("", [(8, ["指定顺丰"])]), [])
        self.assertEqual(remark_tags.match_tags(None, [(8, ["指定顺丰"])]), [])


@tagged("post_install", "-at_install")
class TestRemarkTagsOnOrders(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls.env["logistics.shop"].create({"name": "Tag Shop", "platform": "taobao"})
        cls.partner = cls.env["res.partner"].create({"name": "Buyer"})

    def _codes(self, order):
        return set(order.remark_tag_ids.mapped("code"))

    def test_shipped_tags_are_found(self):
        order = self.env["sale.order"].create(
            {"partner_id": self.partner.id, "shop_id": self.shop.id, "buyer_remark": "指定顺丰！是送人的礼物，加急"}
        )
        self.assertEqual(self._codes(order), {"require_sf", "gift", "urgent"})

    def test_exclusion_is_not_read_as_a_requirement(self):
        order = self.env["sale.order"].create(
            {"partner_id": self.partner.id, "shop_id": self.shop.id, "buyer_remark": "不要发韵达", "seller_memo": "老客户"}
        )
        self.assertEqual(self._codes(order), {"exclude_yd"})

    def test_tags_follow_remark_changes(self):
        order = self.env["sale.order"].create({"partner_id": self.partner.id, "shop_id": self.shop.id})
        self.assertFalse(order.remark_tag_ids)
        order.seller_memo = "客户要求改地址"
        self.assertEqual(self._codes(order), {"attention"})
        order.seller_memo = False
        self.assertFalse(order.remark_tag_ids)
