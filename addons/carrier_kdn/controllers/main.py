import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import kdniao_request

_logger = logging.getLogger(__name__)


class KdniaoPushController(http.Controller):
    @http.route("/kdniao/push", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def kdniao_push(self, **form):
        """KDNiao push (101/102 tracks, 103 pickups): verify DataSign, store, answer in KDNiao's format."""
        # Changes are made (and tracked in the chatter) as OdooBot, not as the public user of the request.
        env = request.env(user=SUPERUSER_ID, su=True)
        ebusiness_id = form.get("EBusinessID") or ""
        try:
            ebusiness_id, request_type, data = kdniao_request.parse_push(form, self._api_key_for(env))
        except kdniao_request.KdniaoPushError as error:
            _logger.warning(
                "Refused a KDNiao push from %s (EBusinessID %r): %s",
                request.httprequest.remote_addr,
                ebusiness_id,
                error,
            )
            return self._answer(ebusiness_id, False, str(error))
        try:
            if request_type == "103":
                unknown = env["stock.picking"]._kdniao_receive_pickup_push(data["Data"])
            else:
                unknown = env["stock.picking"]._kdniao_receive_push(data["Data"])
        except Exception:
            # Nothing half-written: KDNiao pushes the full history again on a failure answer.
            request.env.cr.rollback()
            _logger.exception("Could not store a KDNiao push of EBusinessID %s", ebusiness_id)
            return self._answer(ebusiness_id, False, "temporary failure, push again")
        reason = f"unknown waybills: {', '.join(unknown)}" if unknown else ""
        return self._answer(ebusiness_id, True, reason)

    @staticmethod
    def _api_key_for(env):
        def api_key_for(ebusiness_id):
            account = env["kdniao.account"].search([("ebusiness_id", "=", ebusiness_id)], limit=1)
            return account.api_key or None

        return api_key_for

    @staticmethod
    def _answer(ebusiness_id, success, reason):
        body = kdniao_request.push_answer(ebusiness_id, success, reason)
        return request.make_response(
            json.dumps(body, ensure_ascii=False), headers=[("Content-Type", "application/json; charset=utf-8")]
        )
