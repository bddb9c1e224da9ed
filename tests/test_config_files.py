"""odoo.conf and the Docker files are valid and agree with the rest of the project."""

import configparser
import re
from pathlib import Path

import yaml

import odoo
from odoo.addons.queue_job.jobrunner.channels import ChannelManager

ROOT = Path(__file__).resolve().parent.parent


def _odoo_conf():
    parser = configparser.ConfigParser()
    assert parser.read(ROOT / "odoo.conf"), "odoo.conf is missing"
    return parser


def test_odoo_conf_uses_only_known_options():
    options = _odoo_conf()["options"]
    unknown = set(options) - set(odoo.tools.config.options)
    assert not unknown, f"odoo.conf sets options Odoo does not know: {sorted(unknown)}"


def test_odoo_conf_addons_path_is_relative_and_exists():
    for entry in _odoo_conf()["options"]["addons_path"].split(","):
        path = Path(entry.strip())
        assert not path.is_absolute(), f"{entry} must be relative to the repository"
        assert (ROOT / path).is_dir(), f"{entry} does not exist"
        assert any((ROOT / path / addon / "__manifest__.py").exists() for addon in ("shop_logistics",))


def test_odoo_conf_runs_queue_job_with_workers_and_limits():
    options = _odoo_conf()["options"]
    assert "queue_job" in [m.strip() for m in options["server_wide_modules"].split(",")]
    assert int(options["workers"]) >= 0
    assert int(options["max_cron_threads"]) >= 1
    for limit in ("limit_memory_soft", "limit_memory_hard", "limit_time_cpu", "limit_time_real"):
        assert int(options[limit]) > 0, limit
    assert int(options["limit_memory_soft"]) < int(options["limit_memory_hard"])


def test_queue_job_channels_parse():
    channels = _odoo_conf()["queue_job"]["channels"]
    parsed = ChannelManager.parse_simple_config(channels)
    names = {config["name"] for config in parsed}
    assert {"root", "root.shop_push", "root.shop_import", "root.carrier", "root.print", "root.tracking", "root.ship_back"} <= names
    manager = ChannelManager()
    manager.simple_configure(channels)
    assert manager.get_channel_by_name("root.carrier").capacity == 2
    # the push jobs may both run and leave room for the other channels
    assert manager.get_channel_by_name("root").capacity > manager.get_channel_by_name("root.shop_push").capacity


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_services_and_health_checks():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "odoo", "simulators"}
    assert services["db"]["image"] == "postgres:16"
    for name, service in services.items():
        assert "test" in service.get("healthcheck", {}), f"{name} has no health check"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    assert services["odoo"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "8069:8069" in services["odoo"]["ports"]


def test_compose_mounts_exist_and_volumes_are_declared():
    compose = _compose()
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
    odoo_service = compose["services"]["odoo"]
    assert any(v.startswith("./addons:") for v in odoo_service["volumes"])
    assert any(v.startswith("./odoo.conf:") for v in odoo_service["volumes"])


def test_dockerfile_builds_from_odoo_18_with_our_requirements():
    build = _compose()["services"]["odoo"]["build"]
    dockerfile = (ROOT / build["context"] / build["dockerfile"]).read_text(encoding="utf-8")
    assert re.search(r"^FROM odoo:18\.0\s*$", dockerfile, re.MULTILINE)
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.MULTILINE):
        assert (ROOT / build["context"] / source).exists(), f"Dockerfile copies missing {source}"
    queue_job_pin = re.search(r"odoo-addon-queue_job==\S+", (ROOT / "requirements.txt").read_text()).group(0)
    assert queue_job_pin in dockerfile, "the image and requirements.txt must pin the same queue_job"


def test_requirements_include_ours():
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "-r requirements-addons.txt" in requirements
    ours = (ROOT / "requirements-addons.txt").read_text(encoding="utf-8")
    for package in ("python-escpos", "PyYAML"):
        assert package in ours
    for package in ("psycopg2", "Werkzeug", "lxml", "reportlab", "zeep", "XlsxWriter", "requests", "pytest-odoo"):
        assert re.search(rf"^{package}\b", requirements, re.MULTILINE | re.IGNORECASE), package
