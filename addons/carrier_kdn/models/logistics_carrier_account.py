from odoo import fields, models

MANAGER = "shop_logistics.group_logistics_manager"


class LogisticsCarrierAccount(models.Model):
    _inherit = "logistics.carrier.account"

    kdniao_account_id = fields.Many2one("kdniao.account", string="KDNiao Account", check_company=True)
    kdniao_customer_name = fields.Char(string="CustomerName", help="E-waybill account name at the express company.")
    kdniao_customer_pwd = fields.Char(string="CustomerPwd", groups=MANAGER, copy=False)
    kdniao_month_code = fields.Char(string="MonthCode", groups=MANAGER, copy=False)
    kdniao_send_site = fields.Char(string="SendSite", help="Outlet (网点) code, for companies that ask for it.")
    kdniao_send_staff = fields.Char(string="SendStaff")
    kdniao_pay_type = fields.Selection(
        [("1", "Sender Pays (现付)"), ("2", "Receiver Pays (到付)"), ("3", "Monthly Account (月结)"), ("4", "Third Party")],
        string="PayType",
        default="3",
    )
    kdniao_exp_type = fields.Char(string="ExpType", default="1", help="Express product type code of the company.")
    kdniao_warehouse_code = fields.Char(
        string="WareHouseID", help="Dispatch warehouse code; required by JD Logistics (JD, JDKY)."
    )
    kdniao_template_size = fields.Char(
        string="TemplateSize", help="Label template size code (e.g. 130 for 76x130, 150 for 100x150, 180 for 100x180)."
    )
