"""Every translatable term of our add-ons has a zh_CN translation shipped in its i18n/zh_CN.po."""

from pathlib import Path

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

OUR_ADDONS = ("shop_logistics", "carrier_kdn", "platform_connectors", "label_printing")


def missing_translations(env, module):
    po_path = Path(get_module_path(module)) / "i18n" / "zh_CN.po"
    if not po_path.exists():
        return [f"{po_path} does not exist"]
    translated = {entry.msgid for entry in polib.pofile(str(po_path)) if entry.msgstr.strip() and not entry.obsolete}
    reader = TranslationModuleReader(env.cr, modules=[module])
    terms = {source for (_module, _type, _name, _res_id, source, _value, _comments) in reader if source.strip()}
    return sorted(terms - translated)


@tagged("post_install", "-at_install")
class TestZhCnTranslations(TransactionCase):
    def test_every_term_is_translated(self):
        installed = self.env["ir.module.module"].search([("name", "in", OUR_ADDONS), ("state", "=", "installed")])
        self.assertTrue(installed, "none of our add-ons is installed")
        for module in installed.mapped("name"):
            with self.subTest(module=module):
                missing = missing_translations(self.env, module)
                self.assertFalse(
                    missing,
                    f"{module}: {len(missing)} terms without zh_CN translation, e.g. {missing[:10]}",
                )

    def test_translations_are_loaded_for_chinese_users(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search([("name", "=", "shop_logistics")])._update_translations(["zh_CN"])
        menu = self.env.ref("shop_logistics.menu_logistics_root").with_context(lang="zh_CN")
        self.assertEqual(menu.name, "物流")
        labels = dict(
            self.env["stock.picking"].with_context(lang="zh_CN")._fields["logistics_state"]._description_selection(
                self.env(context={"lang": "zh_CN"})
            )
        )
        self.assertEqual(labels["delivered"], "已签收")
