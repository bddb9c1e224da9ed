from odoo import fields, http
from odoo.http import request

LANGUAGES = ("zh_CN", "en_US")


class TrackingPage(http.Controller):
    """The buyers' own page: a parcel is shown to whoever knows its number and the receiver's phone tail."""

    @http.route("/track", type="http", auth="public", methods=["GET"], sitemap=False)
    def track_form(self, ref="", lang=None, **_kwargs):
        return self._render({"number": ref[:40], "phone_tail": ""}, lang)

    @http.route("/track", type="http", auth="public", methods=["POST"], sitemap=False)
    def track_lookup(self, number="", phone_tail="", lang=None, **_kwargs):
        values = {"number": number[:40], "phone_tail": ""}
        env = request.env(su=True)
        ip = request.httprequest.remote_addr or "unknown"
        attempts = env["logistics.tracking.attempt"]
        blocked_until = attempts._blocked_until(ip)
        if blocked_until:
            minutes = max(1, int((blocked_until - fields.Datetime.now()).total_seconds() // 60) + 1)
            return self._render(dict(values, error="rate_limited", wait_minutes=minutes), lang, status=429)
        picking = env["stock.picking"]._logistics_track_lookup(number, phone_tail)
        attempts.create({"ip": ip, "success": bool(picking)})
        if not picking:
            return self._render(dict(values, error="not_found"), lang, status=404)
        return self._render(dict(values, parcel=picking.with_context(lang=self._lang(lang))._logistics_public_view()), lang)

    def _lang(self, lang):
        if lang in LANGUAGES:
            return lang
        best = request.best_lang or ""
        return "zh_CN" if best.startswith("zh") else "en_US"

    def _render(self, values, lang, status=200):
        lang = self._lang(lang)
        request.update_context(lang=lang)
        values.update(lang=lang, other_lang="en_US" if lang == "zh_CN" else "zh_CN")
        response = request.render("shop_logistics.tracking_page", values, status=status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
        return response
