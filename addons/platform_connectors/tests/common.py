from odoo.tools import config

from tests.simulators.platforms import make_simulator


def start_simulator_shop(case, platform_code, shop_code, **sim_options):
    """A running simulator of ``platform_code`` (stopped after the test) and a shop connected to it."""
    sim = make_simulator(platform_code, **sim_options).start()
    case.addCleanup(sim.stop)
    shop = case.env["logistics.shop"].create(
        {
            "name": f"Simulated {shop_code}",
            "code": shop_code,
            "platform": platform_code,
            "sync_enabled": True,
            "api_url": sim.base_url,
            "app_key": sim.app_key,
            "app_secret": sim.app_secret,
            "access_token": sim.tokens.access_token,
            "refresh_token": sim.tokens.refresh_token,
            "webhook_secret": sim.push_secret(),
            "sync_overlap": 10,
        }
    )
    sim.webhook_url = f"http://127.0.0.1:{config['http_port']}/platform/push/{shop_code}"
    return sim, shop
