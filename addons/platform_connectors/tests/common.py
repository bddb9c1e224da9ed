from odoo.tools import config

from odoo.addons.queue_job.job import Job

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


PUSH_JOBS = ("_platform_process_inbox_job", "_platform_confirm_pushed_job")


def run_push_jobs(case):
    """Run the queued push jobs (inbox, then confirmation) as the queue_job runner would, until none is left;
    returns how many ran."""
    ran = 0
    case.env.flush_all()  # the jobs work on cursors of their own
    for _round in range(10):
        records = case.env["queue.job"].search(
            [("method_name", "in", PUSH_JOBS), ("state", "=", "pending")], order="id"
        )
        if not records:
            break
        for record in records:
            job = Job.load(case.env, record.uuid)
            job.set_started()
            job.perform()
            job.set_done()
            job.store()
            ran += 1
    case.env.invalidate_all()
    return ran
