import base64
import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import split_every

from odoo.addons.queue_job.exception import RetryableJobError

from .. import cn_address, kdniao_request, kdniao_states

_logger = logging.getLogger(__name__)

# Shipments whose tracks the scheduled job refreshes: issued, with the carrier or in trouble, not yet delivered.
REFRESHED_STATES = ("waybill_issued", "printed", "handed_over", "in_transit", "out_for_delivery", "exception")
DEFAULT_REFRESH_MINUTES = 30
# Shipments per refresh job (a job's own cost, about 45 ms, is spread over them); their queries run TRACK_PARALLEL
# at a time.
TRACK_BATCH = 100
TRACK_PARALLEL = 8


class StockPicking(models.Model):
    _inherit = "stock.picking"

    kdniao_order_code = fields.Char(string="KDNiao OrderCode", copy=False, readonly=True, index=True)
    kdniao_cancel_count = fields.Integer(string="Cancelled Waybills", copy=False, readonly=True)
    kdniao_mark_destination = fields.Char(string="Mark Destination (大头笔)", copy=False, readonly=True)
    kdniao_sorting_code = fields.Char(string="Sorting Code (三段码)", copy=False, readonly=True)
    kdniao_package_name = fields.Char(string="Package Hub (集包地)", copy=False, readonly=True)
    kdniao_package_code = fields.Char(string="Package Code (集包编码)", copy=False, readonly=True)
    kdniao_origin_name = fields.Char(string="Origin Hub", copy=False, readonly=True)
    kdniao_destination_name = fields.Char(string="Destination Branch", copy=False, readonly=True)
    kdniao_sub_waybills = fields.Char(string="Sub-waybills", copy=False, readonly=True)
    kdniao_expected_date = fields.Date(string="Expected Delivery", copy=False, readonly=True)
    kdniao_state_ex = fields.Char(string="KDNiao State", copy=False, readonly=True)
    kdniao_error = fields.Char(string="KDNiao Error", copy=False, readonly=True)
    kdniao_subscribed = fields.Boolean(string="Tracks Subscribed", copy=False, readonly=True)
    kdniao_tracked_at = fields.Datetime(string="Tracks Checked At", copy=False, readonly=True, index=True)
    kdniao_track_queued_at = fields.Datetime(string="Track Query Queued At", copy=False, readonly=True)
    is_kdniao = fields.Boolean(compute="_compute_is_kdniao")

    @api.depends("carrier_id.delivery_type", "carrier_account_id.kdniao_account_id")
    def _compute_is_kdniao(self):
        for picking in self:
            picking.is_kdniao = picking.carrier_id.delivery_type == "kdniao" or bool(
                picking.carrier_account_id.kdniao_account_id
            )

    # ------------------------------------------------------------------ messages

    def _kdniao_error_message(self, error):
        """A clerk-readable, translated explanation of a KdniaoError."""
        if isinstance(error, kdniao_request.KdniaoRateLimited):
            return self.env._("KDNiao is busy (too many requests); the request will be retried.")
        if isinstance(error, kdniao_request.KdniaoTransportError):
            return self.env._("KDNiao could not be reached (%s); the request will be retried.", error)
        meanings = {
            "101": self.env._("a required field is missing"),
            "102": self.env._("the request failed KDNiao's checks"),
            "103": self.env._("the request is malformed"),
            "104": self.env._("the KDNiao or carrier account is not enabled or wrong"),
            "105": self.env._("KDNiao refused the order"),
        }
        meaning = meanings.get(error.result_code or "", self.env._("KDNiao refused the request"))
        return self.env._("%(meaning)s: %(reason)s", meaning=meaning, reason=error.reason or error)

    def _kdniao_address_error(self, partner, part):
        parts = {
            "province": self.env._("province"),
            "city": self.env._("city"),
            "district": self.env._("district (区/县)"),
            "street": self.env._("street address"),
        }
        return UserError(
            self.env._(
                "The address of %(partner)s has no %(part)s; KDNiao needs province, city, district and street.",
                partner=partner.display_name,
                part=parts.get(part, part),
            )
        )

    # ------------------------------------------------------------------ request payloads

    def _kdniao_party(self, partner, company_name=False):
        try:
            address = cn_address.split_address(
                partner.state_id.name, partner.city, partner.street, partner.street2
            )
        except cn_address.AddressError as error:
            raise self._kdniao_address_error(partner, error.part) from error
        phones = cn_address.phone_fields(partner.mobile, partner.phone)
        if not phones:
            raise UserError(self.env._("%s has no mobile or telephone number; KDNiao needs one.", partner.display_name))
        party = {"Name": partner.name or company_name or "", **phones, **address}
        if company_name:
            party["Company"] = company_name
        if partner.zip:
            party["PostCode"] = partner.zip
        return party

    def _kdniao_sender(self):
        warehouse_partner = self.picking_type_id.warehouse_id.partner_id or self.company_id.partner_id
        return self._kdniao_party(warehouse_partner, self.company_id.name)

    def _kdniao_commodities(self):
        goods = []
        for move in self.move_ids.filtered(lambda m: m.state != "cancel"):
            goods.append(
                {
                    "GoodsName": move.product_id.name[:50],
                    "GoodsCode": move.product_id.default_code or "",
                    "Goodsquantity": int(move.product_uom_qty) or 1,
                    "GoodsWeight": round(move.product_id.weight, 3),
                }
            )
        return goods or [{"GoodsName": self.env._("Goods"), "Goodsquantity": 1}]

    def _kdniao_new_order_code(self):
        # Stable per picking (a retry after a timeout gets KDNiao's 106 and the same waybill), unique across
        # databases sharing an EBusinessID; KDNiao never reuses an OrderCode, so a cancellation moves it on.
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")[:8]
        code = f"OD{uuid}{self.id:08d}"
        return f"{code}R{self.kdniao_cancel_count}" if self.kdniao_cancel_count else code

    def _kdniao_waybill_request(self, account):
        self.ensure_one()
        packages = self.move_line_ids.result_package_id
        order = {
            "OrderCode": self.kdniao_order_code,
            "ShipperCode": account.express_code,
            "PayType": int(account.kdniao_pay_type or 3),
            "ExpType": account.kdniao_exp_type or "1",
            "Sender": self._kdniao_sender(),
            "Receiver": self._kdniao_party(self._logistics_receiver()),
            "Commodity": self._kdniao_commodities(),
            "Weight": round(self.shipping_weight or self.weight or 0.0, 3),
            "Quantity": max(1, len(packages)),
            "Remark": (self.sale_id.buyer_remark or "")[:60],
            "IsReturnPrintTemplate": "1" if self.carrier_id.kdniao_return_template else "0",
            "IsSubscribe": "1",
            "IsNotice": 1,
        }
        account_fields = {
            "CustomerName": account.kdniao_customer_name,
            "CustomerPwd": account.sudo().kdniao_customer_pwd,
            "MonthCode": account.sudo().kdniao_month_code,
            "SendSite": account.kdniao_send_site,
            "SendStaff": account.kdniao_send_staff,
            "TemplateSize": account.kdniao_template_size,
            "WareHouseID": account.kdniao_warehouse_code,
        }
        order.update({key: value for key, value in account_fields.items() if value})
        return kdniao_request.sanitize(order)

    # ------------------------------------------------------------------ e-waybill

    def _kdniao_lock(self):
        """Row lock so that two users or workers issuing the same picking produce one waybill."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM stock_picking WHERE id IN %s FOR UPDATE NOWAIT", (tuple(self.ids),)
                )
        except LockNotAvailable as error:
            raise UserError(
                self.env._("%s is being processed by someone else right now; try again in a moment.", self.display_name)
            ) from error
        self.invalidate_recordset(["waybill_number", "kdniao_order_code", "logistics_state"])

    def _kdniao_client(self, account, debug_sink=None):
        """A client for ``account``; with debug logging on, requests and answers go to ``debug_sink`` (a
        callable safe to use from other threads) or straight to the carrier's log."""
        debug_logger = None
        if self.carrier_id.debug_logging:
            carrier = self.carrier_id
            debug_logger = debug_sink or (lambda message: carrier.log_xml(message, "kdniao"))
        return account.kdniao_account_id._client(debug_logger=debug_logger)

    def _kdniao_issue_waybill(self):
        """Get the e-waybill of this delivery from KDNiao (1007); a second call returns the first waybill."""
        self.ensure_one()
        account, payload = self._kdniao_prepare_waybill()
        if payload:
            answer = self._kdniao_call(account, lambda client: client.create_waybill(payload))
            self._kdniao_store_waybill(account, answer)
            self._kdniao_after_issue(account)
        return self.waybill_number

    def _kdniao_prepare_waybill(self, accounts=None):
        """Lock the delivery and build its 1007 request; ``(account, None)`` when it already has its waybill.
        ``accounts``: a dict that keeps the carrier account found per shipping method, company and warehouse
        across the deliveries of a batch."""
        self._kdniao_lock()
        if self.waybill_number:
            return self.carrier_account_id, None
        if not self.carrier_id:
            raise UserError(self.env._("Choose a shipping method for %s first.", self.display_name))
        account = self.carrier_account_id
        if not account:
            key = (self.carrier_id.id, self.company_id.id, self.picking_type_id.warehouse_id.id)
            account = (accounts or {}).get(key) or self.carrier_id._kdniao_account_for(self)
            if accounts is not None:
                accounts[key] = account
        if not self.kdniao_order_code:
            self.kdniao_order_code = self._kdniao_new_order_code()
        return account, self._kdniao_waybill_request(account)

    def _kdniao_issue_waybills(self):
        """Issue the waybills of many deliveries: each request leaves as soon as it is built, PARALLEL_REQUESTS at
        a time, so that KDNiao answers the first ones while the next are prepared and the answers are stored;
        every result is stored on its own. Returns ``{picking: message}`` for the deliveries that got none."""
        failures, sent, debug_lines, accounts = {}, [], [], {}
        with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
            for picking in self.filtered(lambda p: not p.waybill_number):
                try:
                    with self.env.cr.savepoint():
                        account, payload = picking._kdniao_prepare_waybill(accounts)
                except UserError as error:
                    failures[picking] = str(error.args[0])
                    continue
                if payload:
                    client = picking._kdniao_client(account, debug_lines.append)
                    sent.append((picking, account, pool.submit(_with_retries, _create_waybill, (client, payload))))
            for picking, account, answer in sent:
                outcome = answer.result()
                try:
                    with self.env.cr.savepoint():
                        if isinstance(outcome, kdniao_request.KdniaoError):
                            raise KdniaoUserError(picking._kdniao_error_message(outcome), outcome)
                        picking._kdniao_store_waybill(account, outcome)
                        picking._kdniao_after_issue(account)
                        picking._kdniao_record_shipping_cost()
                except UserError as error:
                    failures[picking] = str(error.args[0])
        self._kdniao_write_debug_log(debug_lines)
        return failures

    def _kdniao_record_shipping_cost(self):
        """What Odoo's send_to_shipper records besides the tracking number: the cost, on the order too."""
        price = self.carrier_id.product_id.list_price
        self.carrier_price = self.carrier_id.with_context(order=self.sale_id)._apply_margins(price)
        self._add_delivery_cost_to_so()

    def _kdniao_write_debug_log(self, lines):
        by_carrier = self.carrier_id.filtered("debug_logging")[:1]
        for line in lines:
            by_carrier.log_xml(line, "kdniao")

    def _kdniao_call(self, account, operation):
        """Run one KDNiao operation; any failure becomes a translated UserError (kept on the picking)."""
        try:
            return operation(self._kdniao_client(account))
        except kdniao_request.KdniaoError as error:
            message = self._kdniao_error_message(error)
            _logger.info("KDNiao call for %s failed: %s", self.display_name, error)
            raise KdniaoUserError(message, error) from error

    def _kdniao_store_waybill(self, account, answer):
        order = answer.get("Order") or {}
        waybill = order.get("LogisticCode")
        if not waybill:
            raise UserError(self.env._("KDNiao answered without a waybill number for %s.", self.display_name))
        values = {
            "waybill_number": waybill,
            "carrier_tracking_ref": waybill,
            "carrier_account_id": account.id,
            "kdniao_mark_destination": order.get("MarkDestination") or False,
            "kdniao_sorting_code": order.get("SortingCode") or False,
            "kdniao_package_name": order.get("PackageName") or False,
            "kdniao_package_code": order.get("PackageCode") or False,
            "kdniao_origin_name": order.get("OriginName") or False,
            "kdniao_destination_name": order.get("DestinatioName") or False,  # sic: KDNiao's spelling
            "kdniao_sub_waybills": _sub_waybills(answer.get("SubOrders")) or False,
            "kdniao_expected_date": _date_or_false(answer.get("EstimatedDeliveryTime")),
            "kdniao_error": False,
        }
        if answer.get("PrintTemplate"):
            values["label_attachment_id"] = self._kdniao_template_attachment(waybill, answer["PrintTemplate"]).id
        self.write(values)
        self._kdniao_mark_waybill_issued()

    def _kdniao_mark_waybill_issued(self):
        """A waybill was issued or linked: the shipment is routed (if not yet) and has its waybill."""
        if self.logistics_state in ("to_route", "exception"):
            self._set_logistics_state("routed")
        if self.logistics_state == "routed":
            self._set_logistics_state("waybill_issued")

    def _kdniao_template_attachment(self, waybill, html):
        return self.env["ir.attachment"].create(
            {
                "name": f"KDNiao-{waybill}.html",
                "datas": base64.b64encode(html.encode("utf-8")),
                "mimetype": "text/html",
                "res_model": "stock.picking",
                "res_id": self.id,
            }
        )

    def _kdniao_after_issue(self, account):
        """The 1007 request subscribed the waybill (IsSubscribe); ask a prediction when 1007 gave no date.
        Neither is worth failing the waybill for."""
        self.kdniao_subscribed = True
        if self.carrier_id.kdniao_predict_delivery and not self.kdniao_expected_date:
            try:
                data = self._kdniao_client(account).predict_delivery(
                    account.express_code, self._kdniao_sender(), self._kdniao_party(self._logistics_receiver()), self.waybill_number
                )
                self.kdniao_expected_date = _date_or_false(data.get("DeliveryDate"))
            except (kdniao_request.KdniaoError, UserError) as error:
                _logger.info("No delivery prediction for %s: %s", self.display_name, error)

    def _kdniao_subscribe(self, account):
        try:
            self._kdniao_client(account).subscribe(
                account.express_code,
                self.waybill_number,
                customer_name=self._kdniao_phone_digits(account),
                order_code=self.kdniao_order_code or "",
                paid=account.kdniao_account_id.paid_tracking,
            )
            self.kdniao_subscribed = True
        except kdniao_request.KdniaoError as error:
            _logger.info("Track subscription of %s failed, the scheduled query covers it: %s", self.waybill_number, error)

    def _kdniao_phone_digits(self, account):
        """SF (and ZTO, KYSY) ask for the last 4 digits of the receiver's phone to show tracks."""
        if account.express_code not in ("SF", "ZTO", "KYSY"):
            return None
        digits = "".join(ch for ch in (self.partner_id.mobile or self.partner_id.phone or "") if ch.isdigit())
        return digits[-4:] or None

    def _kdniao_cancel_waybill(self):
        self.ensure_one()
        self._kdniao_lock()
        if not self.waybill_number:
            raise UserError(self.env._("%s has no waybill to cancel.", self.display_name))
        if self.logistics_state not in ("waybill_issued", "printed", "routed", "exception"):
            raise UserError(
                self.env._("The parcel of %s is already with the carrier; its waybill cannot be cancelled.", self.display_name)
            )
        account = self.carrier_account_id
        self._kdniao_call(
            account,
            lambda client: client.cancel_waybill(
                account.express_code,
                self.kdniao_order_code,
                self.waybill_number,
                account.kdniao_customer_name,
                account.sudo().kdniao_customer_pwd,
            ),
        )
        waybill = self.waybill_number
        self.write(
            {
                "waybill_number": False,
                "carrier_tracking_ref": False,
                "kdniao_mark_destination": False,
                "kdniao_sorting_code": False,
                "kdniao_package_name": False,
                "kdniao_package_code": False,
                "kdniao_sub_waybills": False,
                "kdniao_expected_date": False,
                "kdniao_subscribed": False,
                "kdniao_order_code": False,
                "kdniao_cancel_count": self.kdniao_cancel_count + 1,
                "label_attachment_id": False,
            }
        )
        if self.logistics_state in ("waybill_issued", "printed"):
            self._set_logistics_state("routed")
        self.message_post(body=self.env._("KDNiao waybill %s cancelled.", waybill))

    # ------------------------------------------------------------------ buttons and jobs

    def action_kdniao_issue_waybill(self):
        """Issue missing waybills; one failing delivery does not stop the others, its error stays on it."""
        failures = {
            picking: self.env._("%s is not shipped with a KDNiao carrier.", picking.display_name)
            for picking in self.filtered(lambda p: not p.is_kdniao and not p.waybill_number)
        }
        for picking in self.filtered(lambda p: p.is_kdniao and not p.carrier_id):
            picking.carrier_id = picking.carrier_account_id.carrier_id
        failures.update(self.filtered("is_kdniao")._kdniao_issue_waybills())
        for picking, message in failures.items():
            picking.kdniao_error = message
        return self._kdniao_notify(self.env._("Waybills issued"), failures)

    def _logistics_issue_waybills(self):
        """KDNiao deliveries get their waybills in one parallel batch; the others through their own carrier."""
        missing = self.filtered(lambda p: not p.waybill_number)
        kdniao = missing.filtered("is_kdniao")
        for picking in kdniao.filtered(lambda p: not p.carrier_id):
            picking.carrier_id = picking.carrier_account_id.carrier_id
        failures = super(StockPicking, missing - kdniao)._logistics_issue_waybills()
        kdniao_failures = kdniao._kdniao_issue_waybills()
        for picking, message in kdniao_failures.items():
            picking.kdniao_error = message
        return {**failures, **kdniao_failures}

    def _label_routing(self):
        routing = super()._label_routing()
        if self.is_kdniao:
            routing.update(
                mark_destination=self.kdniao_mark_destination or "",
                sorting_code=self.kdniao_sorting_code or "",
                package_name=self.kdniao_package_name or "",
                sub_waybills=[number for number in (self.kdniao_sub_waybills or "").split(",") if number],
            )
        return routing

    def _kdniao_send_to_shipper(self):
        if self.waybill_number:
            return
        if not self.is_kdniao:
            raise UserError(self.env._("%s is not shipped with a KDNiao carrier.", self.display_name))
        if not self.carrier_id and self.carrier_account_id:
            self.carrier_id = self.carrier_account_id.carrier_id
        self.send_to_shipper()

    def action_kdniao_cancel_waybill(self):
        failures = self._kdniao_for_each(lambda picking: picking.carrier_id.cancel_shipment(picking))
        return self._kdniao_notify(self.env._("Waybills cancelled"), failures)

    def action_kdniao_refresh_tracks(self):
        failures = self._kdniao_for_each(lambda picking: picking._kdniao_query_tracks())
        return self._kdniao_notify(self.env._("Tracks refreshed"), failures)

    def _kdniao_for_each(self, operation):
        failures = {}
        for picking in self:
            try:
                with self.env.cr.savepoint():
                    operation(picking)
            except UserError as error:
                failures[picking] = str(error.args[0])
        for picking, message in failures.items():
            picking.kdniao_error = message
        return failures

    def _kdniao_notify(self, title, failures):
        if len(self) == 1 and failures:
            raise UserError(next(iter(failures.values())))
        done = len(self) - len(failures)
        message = self.env._("%(done)s of %(total)s done.", done=done, total=len(self))
        if failures:
            details = "; ".join(f"{picking.display_name}: {error}" for picking, error in failures.items())
            message = f"{message} {details}"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": "warning" if failures else "success",
                "sticky": bool(failures),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_kdniao_issue_waybill_in_background(self):
        for picking in self.filtered(lambda p: not p.waybill_number):
            picking.with_delay(
                channel="root.carrier",
                description=self.env._("KDNiao waybill for %s", picking.display_name),
                identity_key=f"kdniao-waybill-{picking.id}",
            )._kdniao_issue_waybill_job()
        return True

    def _kdniao_issue_waybill_job(self):
        return self._kdniao_run_job(self._kdniao_send_to_shipper) or self.waybill_number

    def _kdniao_run_job(self, operation):
        """Queue job body: transient failures (timeout, HTTP error, rate limit) retry with the job's backoff;
        a refusal ends the job with its message, kept on the delivery."""
        try:
            operation()
        except KdniaoUserError as error:
            if error.cause.retryable:
                raise RetryableJobError(str(error)) from error
            self.kdniao_error = str(error)
            return str(error)
        return None

    # ------------------------------------------------------------------ tracks

    def _kdniao_query_tracks(self):
        self.ensure_one()
        if not self.waybill_number or not self.carrier_account_id.kdniao_account_id:
            raise UserError(self.env._("%s has no KDNiao waybill to track.", self.display_name))
        account = self.carrier_account_id
        answer = self._kdniao_call(
            account,
            lambda client: client.track(
                account.express_code,
                self.waybill_number,
                customer_name=self._kdniao_phone_digits(account),
                order_code=self.kdniao_order_code or "",
                paid=account.kdniao_account_id.paid_tracking,
            ),
        )
        self._kdniao_apply_tracks(answer, "query")
        return answer

    def _kdniao_apply_tracks(self, item, source):
        """Store the traces of one push item or query answer and move the shipment along."""
        self.ensure_one()
        self._kdniao_apply_answers([(self, item)], source)

    def _kdniao_apply_answers(self, answers, source):
        """Store the traces of ``[(picking, push item or query answer)]``, each picking once, and move the shipments
        along: the events of all in one go (one lookup of those already stored, one insert, one exception check),
        the shipments moving to the same state together.

        What the carrier's scans change is not tracked in the chatter: the scans are the delivery's timeline, and
        a tracking message per shipment and move (tens of thousands a day) was a quarter of a refresh's time."""
        self = self.with_context(mail_notrack=True)  # noqa: PLW0642
        answers = [(picking.with_context(mail_notrack=True), item) for picking, item in answers]
        events, codes = [], []
        for picking, item in answers:
            for trace in item.get("Traces") or []:
                try:
                    event_time = kdniao_request.parse_time(trace.get("AcceptTime"))
                except ValueError:
                    _logger.warning(
                        "Skipping a KDNiao trace of %s without a readable time: %s", picking.waybill_number, trace
                    )
                    continue
                events.append(picking._kdniao_event_values(trace, event_time, source))
            expected = _date_or_false(item.get("EstimatedDeliveryTime"))
            if expected and expected != picking.kdniao_expected_date:
                picking.kdniao_expected_date = expected
            codes.append((picking, kdniao_states.normalise_code(item.get("StateEx"), item.get("State"))))
        self.env["logistics.shipment.event"]._record_events(events)
        self._kdniao_move_many(codes)
        self.browse([picking.id for picking, _item in answers]).kdniao_tracked_at = fields.Datetime.now()

    def _kdniao_event_values(self, trace, event_time, source):
        """One trace as a track event; its Action code tells the problem it reports and whether it is an
        arrival at a transfer centre (free-tier traces have no code: the shared defaults apply)."""
        code = kdniao_states.normalise_code(trace.get("Action"), None) if trace.get("Action") else None
        description = (trace.get("AcceptStation") or "").strip() or "-"
        values = {
            "waybill_number": self.waybill_number,
            "express_code": self.carrier_account_id.express_code,
            "picking_id": self.id,
            "event_time": event_time,
            "location": trace.get("Location") or False,
            "description": description,
            "status": kdniao_states.event_status(code) if code else "info",
            "carrier_status": code or False,
            "source": source,
            "raw_payload": trace,
        }
        if code:
            values["problem_kind"] = kdniao_states.problem_kind(code)
            values["at_transfer_centre"] = code in kdniao_states.TRANSFER_CENTRE_CODES
        return values

    def _kdniao_move_to(self, code):
        self.ensure_one()
        self._kdniao_move_many([(self, code)])

    def _kdniao_move_many(self, codes):
        """``[(picking, KDNiao state code)]``, each picking once: keep the code and the problem it reports, and move
        the shipments whose code calls for another state (those moving to the same state together)."""
        problems, moves = self.browse(), defaultdict(list)
        for picking, code in codes:
            picking.kdniao_state_ex = code
            if picking._kdniao_note_problem(code):
                problems |= picking
            target = kdniao_states.target_state(code)
            if not target or target == picking.logistics_state:
                continue
            reason = picking._kdniao_state_label(code) if target == "exception" else False
            if picking.logistics_state in (False, "to_route", "routed", "cancelled"):
                _logger.info(
                    "Ignoring KDNiao state %s for %s in state %s", code, picking.display_name, picking.logistics_state
                )
                continue
            moves[target].append((picking, reason))
        problems._logistics_check_exceptions()
        for target, moving in moves.items():
            self.browse([picking.id for picking, _reason in moving])._advance_logistics_state(target)
            if target == "exception":
                for picking, reason in moving:
                    if picking.logistics_state == "exception":
                        picking.logistics_exception_reason = reason

    def _kdniao_note_problem(self, code):
        """KDNiao's state may report a problem no trace carries (its own time rules, e.g. 402, 412): keep it as the
        carrier's problem; True when it is new (the caller checks the shipment for exceptions at once)."""
        kind = kdniao_states.problem_kind(code)
        if kind and kind != self.logistics_carrier_problem:
            self.logistics_carrier_problem = kind
            return True
        return False

    def _kdniao_state_label(self, code):
        labels = {
            "4": self.env._("Problem parcel"),
            "401": self.env._("No tracking information after shipping"),
            "402": self.env._("Not signed for in time"),
            "403": self.env._("No track update for a long time"),
            "404": self.env._("Refused by the receiver, being returned"),
            "405": self.env._("Delivery failed"),
            "407": self.env._("Return not signed by the sender"),
            "412": self.env._("Not collected from the locker or station in time"),
            "413": self.env._("Intercepted"),
            "414": self.env._("Damaged"),
            "415": self.env._("Cancelled by the shipper"),
            "416": self.env._("Receiver cannot be reached"),
            "417": self.env._("Delayed by the carrier"),
            "418": self.env._("Taken out of the locker by the courier"),
            "420": self.env._("Address not detailed enough"),
            "421": self.env._("Wrong receiver phone number"),
            "422": self.env._("Mis-sorted"),
            "423": self.env._("Outside the delivery area"),
            "604": self.env._("Customs clearance problem"),
        }
        return labels.get(code, self.env._("Carrier reported a problem (code %s)", code))

    @api.model
    def _cron_kdniao_refresh_tracks(self, batch_size=TRACK_BATCH):
        """Queue track queries for the undelivered KDNiao shipments that neither a push nor a query updated within
        their account's interval, ``batch_size`` shipments per job (channel ``root.tracking``)."""
        now = fields.Datetime.now()
        queued = self.browse()
        for account in self.env["kdniao.account"].search([]):
            pickings = self.search(self._kdniao_refresh_domain(account, now), order="kdniao_tracked_at asc nulls first, id")
            for batch in split_every(batch_size, pickings.ids, self.browse):
                batch.with_delay(
                    channel="root.tracking",
                    description=self.env._("KDNiao: refresh the tracks of %s shipments", len(batch)),
                )._kdniao_query_tracks_job()
            pickings.write({"kdniao_track_queued_at": now})
            queued |= pickings
        return queued

    @api.model
    def _kdniao_refresh_domain(self, account, now):
        threshold = now - timedelta(minutes=account.track_refresh_minutes or DEFAULT_REFRESH_MINUTES)
        return [
            ("waybill_number", "!=", False),
            ("carrier_account_id.kdniao_account_id", "=", account.id),
            ("logistics_state", "in", REFRESHED_STATES),
            "|",
            ("kdniao_tracked_at", "=", False),
            ("kdniao_tracked_at", "<", threshold),
            "|",
            ("kdniao_track_queued_at", "=", False),
            ("kdniao_track_queued_at", "<", threshold),
        ]

    def _kdniao_query_tracks_job(self):
        """Queue job: query the tracks of these shipments (requests in parallel, answers stored together).

        A shipment whose query fails waits for the next scheduled run; when KDNiao cannot be reached for any of
        them, the whole job is retried later."""
        # deliveries the carrier collected are validated together at the end, not one by one
        answers = self.with_context(logistics_defer_stock_deduction=True)._kdniao_query_tracks_batch()
        self._logistics_deduct_pending_stock()
        failed = {picking: answer for picking, answer in answers.items() if isinstance(answer, Exception)}
        if failed and len(failed) == len(self) and all(_retryable(error) for error in failed.values()):
            raise RetryableJobError(str(next(iter(failed.values()))))
        for picking, error in failed.items():
            picking.kdniao_error = str(error.args[0]) if isinstance(error, UserError) else str(error)
        return {picking.id: picking.kdniao_state_ex for picking in self - self.browse([p.id for p in failed])}

    def _kdniao_query_tracks_batch(self):
        """``{picking: answer or error}``: the KDNiao queries of these shipments run in parallel, their answers
        are stored in the calling thread, all together in a savepoint; if that fails, each in its own."""
        prepared, results, debug_lines = [], {}, []
        for picking in self:
            if not picking.waybill_number or not picking.carrier_account_id.kdniao_account_id:
                results[picking] = UserError(self.env._("%s has no KDNiao waybill to track.", picking.display_name))
                continue
            account = picking.carrier_account_id
            kwargs = {
                "customer_name": picking._kdniao_phone_digits(account),
                "order_code": picking.kdniao_order_code or "",
                "paid": account.kdniao_account_id.paid_tracking,
            }
            client = picking._kdniao_client(account, debug_lines.append)
            prepared.append((picking, client, (account.express_code, picking.waybill_number), kwargs))
        outcomes = _track_in_parallel([(client, args, kwargs) for _picking, client, args, kwargs in prepared])
        answered = []
        for (picking, _client, _args, _kwargs), outcome in zip(prepared, outcomes):
            if isinstance(outcome, kdniao_request.KdniaoError):
                results[picking] = KdniaoUserError(picking._kdniao_error_message(outcome), outcome)
            else:
                answered.append((picking, outcome))
        self._kdniao_write_debug_log(debug_lines)
        try:
            with self.env.cr.savepoint():
                self._kdniao_apply_answers(answered, "query")
            results.update(answered)
        except Exception:  # noqa: BLE001 - stored again one by one below, where each keeps its own error
            _logger.info("Storing %s track answers together failed, now one by one", len(answered), exc_info=True)
            for picking, outcome in answered:
                try:
                    with self.env.cr.savepoint():
                        picking._kdniao_apply_tracks(outcome, "query")
                    results[picking] = outcome
                except UserError as error:
                    results[picking] = error
        return results

    # ------------------------------------------------------------------ shared hooks

    def _logistics_expected_date(self):
        return self.kdniao_expected_date or super()._logistics_expected_date()

    def _logistics_expected_dates(self):
        """KDNiao's expected dates in one query; the other shipments through their own carrier."""
        self.flush_model(["kdniao_expected_date", "carrier_account_id"])
        self.env["logistics.carrier.account"].flush_model(["kdniao_account_id"])
        self.env.cr.execute(
            """SELECT p.id, p.kdniao_expected_date, a.kdniao_account_id IS NOT NULL
                 FROM stock_picking p
                 LEFT JOIN logistics_carrier_account a ON a.id = p.carrier_account_id
                WHERE p.id = ANY(%s)""",
            (list(self.ids),),
        )
        dates, others = {}, []
        for picking_id, expected, is_kdniao in self.env.cr.fetchall():
            if expected:
                dates[picking_id] = expected
            elif not is_kdniao:
                others.append(picking_id)
        others = self.browse(others)
        # Their own carriers decide; our _logistics_expected_date() reads this first (no whole-row fetch).
        others.fetch(["kdniao_expected_date"])
        return {**super(StockPicking, others)._logistics_expected_dates(), **dates}


def _retryable(error):
    cause = getattr(error, "cause", None)
    return bool(cause is not None and cause.retryable)


def _track_in_parallel(jobs):
    """``jobs`` are ``(client, args, kwargs)`` of 8001/1002 queries; yields each answer or its KdniaoError, in order,
    as soon as it is there (the caller stores it while the next queries run)."""
    return _call_in_parallel(_track, jobs, TRACK_PARALLEL)


def _track(job):
    client, args, kwargs = job
    return client.track(*args, **kwargs)


# KDNiao serves about 20 e-waybill requests a second per account; a batch keeps that many in flight.
PARALLEL_REQUESTS = 16
RATE_LIMIT_RETRIES = 4


def _create_waybill(job):
    client, payload = job
    return client.create_waybill(payload)


def _call_in_parallel(call, jobs, max_workers):
    """``call(job)`` for each job, ``max_workers`` at a time, retrying rate-limit answers with backoff; yields
    each answer, or the KdniaoError it ended with, in the order of ``jobs``."""
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=min(max_workers, len(jobs))) as pool:
        yield from pool.map(lambda job: _with_retries(call, job), jobs)


def _with_retries(call, job):
    """``call(job)``, again after a backoff when KDNiao answers that it is busy; the answer or the KdniaoError."""
    for number in range(RATE_LIMIT_RETRIES + 1):
        try:
            return call(job)
        except kdniao_request.KdniaoRateLimited as error:
            if number == RATE_LIMIT_RETRIES:
                return error
            time.sleep(0.5 * 2**number)
        except kdniao_request.KdniaoError as error:
            return error


class KdniaoUserError(UserError):
    """A translated UserError that keeps the KdniaoError behind it (to know whether a retry may help)."""

    def __init__(self, message, cause):
        super().__init__(message)
        self.cause = cause


def _sub_waybills(value):
    if isinstance(value, list):
        return ",".join(str(item.get("LogisticCode", item)) if isinstance(item, dict) else str(item) for item in value)
    return value or ""


def _date_or_false(value):
    if not value:
        return False
    try:
        return datetime.strptime(str(value)[:10], "%Y-%m-%d").date()
    except ValueError:
        return False



class StockPickingPush(models.Model):
    _inherit = "stock.picking"

    @api.model
    def _kdniao_receive_push(self, items):
        """Apply the items of a track push; returns the waybill numbers no delivery knows (acknowledged anyway:
        KDNiao would otherwise push them again and again)."""
        unknown = []
        touched = self.browse()
        for item in items:
            if not isinstance(item, dict):
                continue
            waybill = str(item.get("LogisticCode") or "")
            domain = [("waybill_number", "=", waybill), ("carrier_account_id.kdniao_account_id", "!=", False)]
            if item.get("ShipperCode"):
                domain.append(("carrier_account_id.express_code", "=", item["ShipperCode"]))
            picking = self.search(domain, limit=1) if waybill else self.browse()
            if not picking:
                unknown.append(waybill or "?")
                continue
            picking.with_context(logistics_defer_stock_deduction=True)._kdniao_apply_tracks(item, "push")
            touched |= picking
        touched._logistics_deduct_pending_stock()
        return unknown


class StockPickingLink(models.Model):
    _inherit = "stock.picking"

    def _kdniao_link_waybill(self, waybill, account):
        """A parcel shipped outside Odoo: record its waybill and company, then subscribe to its tracks."""
        self.ensure_one()
        self._kdniao_lock()
        if self.waybill_number and self.waybill_number != waybill:
            raise UserError(
                self.env._("%(picking)s already has waybill %(waybill)s.", picking=self.display_name, waybill=self.waybill_number)
            )
        self.write(
            {
                "waybill_number": waybill,
                "carrier_tracking_ref": waybill,
                "carrier_account_id": account.id,
                "carrier_id": account.carrier_id.id,
                "kdniao_error": False,
            }
        )
        self._kdniao_mark_waybill_issued()
        self._kdniao_subscribe(account)
        self.message_post(body=self.env._("Waybill %(waybill)s of %(company)s linked.", waybill=waybill, company=account.display_name))


PICKUP_STATES = {"104": "picked_up", "301": "picked_up", "203": "cancelled"}


class StockPickingPickup(models.Model):
    _inherit = "stock.picking"

    kdniao_pickup_code = fields.Char(string="Pickup OrderCode", copy=False, readonly=True)
    kdniao_pickup_state = fields.Selection(
        [("booked", "Booked"), ("picked_up", "Picked Up"), ("cancelled", "Cancelled")],
        string="Pickup",
        copy=False,
        readonly=True,
    )
    kdniao_pickup_start = fields.Datetime(string="Pickup From", copy=False, readonly=True)
    kdniao_pickup_end = fields.Datetime(string="Pickup Until", copy=False, readonly=True)
    kdniao_pickup_count = fields.Integer(copy=False, readonly=True)

    def _kdniao_pickup_order(self, account, start, end):
        order = {
            "OrderCode": self.kdniao_pickup_code,
            "ShipperCode": account.express_code,
            "PayType": int(account.kdniao_pay_type or 3),
            "ExpType": account.kdniao_exp_type or "1",
            "Sender": self._kdniao_sender(),
            "Receiver": self._kdniao_party(self._logistics_receiver()),
            "StartDate": fields.Datetime.to_string(start),
            "EndDate": fields.Datetime.to_string(end),
            "Weight": round(self.shipping_weight or self.weight or 0.0, 3),
            "Quantity": 1,
            "Commodity": [
                {key: value for key, value in goods.items() if key in ("GoodsName", "GoodsCode")}
                | {"GoodsQuantity": goods.get("Goodsquantity", 1)}
                for goods in self._kdniao_commodities()
            ],
        }
        return kdniao_request.sanitize(order, pickup=True)

    def _kdniao_book_pickup(self, start, end):
        self.ensure_one()
        self._kdniao_lock()
        if self.kdniao_pickup_state == "booked":
            return
        account = self.carrier_account_id or self.carrier_id._kdniao_account_for(self)
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")[:8]
        self.kdniao_pickup_code = f"PU{uuid}{self.id:08d}" + (f"R{self.kdniao_pickup_count}" if self.kdniao_pickup_count else "")
        payload = self._kdniao_pickup_order(account, start, end)
        self._kdniao_call(account, lambda client: client.book_pickup(payload))
        self.write(
            {
                "kdniao_pickup_state": "booked",
                "kdniao_pickup_start": start,
                "kdniao_pickup_end": end,
                "carrier_account_id": account.id,
                "kdniao_error": False,
            }
        )

    def _kdniao_cancel_pickup(self):
        self.ensure_one()
        if self.kdniao_pickup_state != "booked":
            raise UserError(self.env._("%s has no pickup booked that could be cancelled.", self.display_name))
        account = self.carrier_account_id
        self._kdniao_call(account, lambda client: client.cancel_pickup(self.kdniao_pickup_code))
        self.write({"kdniao_pickup_state": "cancelled", "kdniao_pickup_count": self.kdniao_pickup_count + 1})

    def action_kdniao_book_pickup(self):
        """Book the courier for the selected deliveries, from now until the end of the day."""
        start = fields.Datetime.now()
        end = fields.Datetime.end_of(start, "day")
        failures = self._kdniao_for_each(lambda picking: picking._kdniao_book_pickup(start, end))
        return self._kdniao_notify(self.env._("Pickups booked"), failures)

    def action_kdniao_cancel_pickup(self):
        failures = self._kdniao_for_each(lambda picking: picking._kdniao_cancel_pickup())
        return self._kdniao_notify(self.env._("Pickups cancelled"), failures)

    @api.model
    def _kdniao_receive_pickup_push(self, items):
        unknown = []
        for item in items:
            if not isinstance(item, dict):
                continue
            code = str(item.get("OrderCode") or "")
            picking = self.search([("kdniao_pickup_code", "=", code)], limit=1) if code else self.browse()
            if not picking:
                unknown.append(code or "?")
                continue
            state = PICKUP_STATES.get(str(item.get("State") or item.get("OrderState") or item.get("Status") or ""))
            if state:
                picking.kdniao_pickup_state = state
            if state == "picked_up" and picking.logistics_state in ("waybill_issued", "printed"):
                picking._set_logistics_state("handed_over")
        return unknown
