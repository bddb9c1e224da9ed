"""shop-logistics developer control: ``./shoplog run``, ``./shoplog test``, ``./shoplog stop``.

Runs inside the project's virtualenv (created by ``./shoplog``). Every step is idempotent:
a second ``run`` only starts what is not running and upgrades the add-ons when their code changed.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ADDONS_DIR = ROOT / "addons"
ODOO_CONF = ROOT / "odoo.conf"
OUR_ADDONS = ["shop_logistics", "carrier_kdn", "platform_connectors", "label_printing"]
DEMO_DB = os.environ.get("SHOPLOG_DEMO_DB", "shop_logistics_demo")
# Each test run gets its own database and HTTP port, so that runs side by side never meet.
TEST_DB = os.environ.get("SHOPLOG_TEST_DB") or f"shop_logistics_test_{os.getpid()}"
BASE_TEMPLATE_DB = os.environ.get("SHOPLOG_BASE_DB", "shop_logistics_base_tmpl")
HTTP_PORT = int(os.environ.get("SHOPLOG_HTTP_PORT", "8069"))
ODOO_GIT_URL = "https://github.com/odoo/odoo.git"
# The first language is the database default (admin stays in English); zh_CN is loaded for the staff.
LANGUAGES = "en_US,zh_CN"

# Debian packages: command or file that proves each one is there.
SYSTEM_PACKAGES = {
    "chromium": "chromium",
    "wkhtmltopdf": "wkhtmltopdf",
    "zbar-tools": "zbarimg",
    "poppler-utils": "pdftoppm",
    "fonts-noto-cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    # Labels embed their font, and reportlab embeds TrueType outlines only (Noto CJK is CFF).
    "fonts-wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "libpq-dev": "pg_config",
    "libldap2-dev": "/usr/include/ldap.h",
    "libsasl2-dev": "/usr/include/sasl/sasl.h",
}


def say(message):
    print(f"shoplog: {message}", flush=True)


def fail(message, code=2):
    print(f"shoplog: ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# --------------------------------------------------------------------------- system packages


def _present(probe):
    return Path(probe).exists() if probe.startswith("/") else shutil.which(probe) is not None


def ensure_system_packages():
    missing = [pkg for pkg, probe in SYSTEM_PACKAGES.items() if not _present(probe)]
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing Debian packages: {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        result = subprocess.run([*command, "-qq"], env=env)
        if result.returncode == 0:
            return
    fail(f"missing system packages: {' '.join(missing)}. Install them with: sudo {' '.join(command)}")


# --------------------------------------------------------------------------- Odoo source


def odoo_cache_dir():
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "shop-logistics" / "odoo-18.0"


def _is_odoo_18(path):
    release = path / "odoo" / "release.py"
    if not (path / "odoo-bin").is_file() or not release.is_file():
        return False
    return "version_info = (18, 0," in release.read_text(encoding="utf-8")


def find_odoo_source():
    explicit = os.environ.get("ODOO_SRC")
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not _is_odoo_18(path):
            fail(f"ODOO_SRC={path} is not an Odoo 18.0 source tree (odoo-bin and odoo/release.py 18.0 expected).")
        return path
    cached = odoo_cache_dir()
    if _is_odoo_18(cached):
        return cached
    if shutil.which("git"):
        say(f"cloning Odoo 18.0 into {cached} (shallow, takes a few minutes)")
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        result = subprocess.run(
            ["git", "clone", "--depth", "1", "--branch", "18.0", ODOO_GIT_URL, str(partial)]
        )
        if result.returncode == 0 and _is_odoo_18(partial):
            shutil.rmtree(cached, ignore_errors=True)
            partial.rename(cached)
            return cached
        shutil.rmtree(partial, ignore_errors=True)
    fail(
        "Odoo 18.0 source not found. Either set ODOO_SRC to an Odoo 18.0 checkout, or put one at "
        f"{cached} (git clone --depth 1 --branch 18.0 {ODOO_GIT_URL} {cached})."
    )


def odoo_addons_path(odoo_src):
    paths = [ADDONS_DIR]
    if (odoo_src / "addons").is_dir():
        paths.append(odoo_src / "addons")
    return ",".join(str(p) for p in paths)


# --------------------------------------------------------------------------- Python requirements


def _register_odoo_distribution(odoo_src):
    """Make the Odoo source importable and known to pip as the ``odoo`` 18.0 distribution.

    The source tree has no setup.py; OCA wheels require ``odoo==18.0.*``. A .pth file plus a
    minimal dist-info is what ``pip install -e`` of the tree would have produced.
    """
    site = Path(sysconfig.get_paths()["purelib"])
    (site / "shoplog_odoo_src.pth").write_text(f"{odoo_src}\n", encoding="utf-8")
    dist_info = site / "odoo-18.0.dist-info"
    dist_info.mkdir(exist_ok=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: odoo\nVersion: 18.0\n", encoding="utf-8")
    (dist_info / "INSTALLER").write_text("shoplog\n", encoding="utf-8")
    (dist_info / "RECORD").write_text("", encoding="utf-8")


def ensure_requirements(odoo_src):
    _register_odoo_distribution(odoo_src)
    requirements = ROOT / "requirements.txt"
    stamp = VAR / "requirements.sha256"
    # requirements.txt includes requirements-addons.txt: a change to either installs again.
    listed = requirements.read_bytes() + (ROOT / "requirements-addons.txt").read_bytes()
    digest = hashlib.sha256(listed + str(odoo_src).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say("installing Python requirements")
    log_file = VAR / "pip.log"
    with open(log_file, "wb") as log:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if result.returncode:
        fail(f"pip could not install requirements.txt, see {log_file}")
    stamp.write_text(digest)


# --------------------------------------------------------------------------- PostgreSQL


def _pg_connect(dbname="postgres"):
    import psycopg2

    return psycopg2.connect(dbname=dbname, connect_timeout=5)


def _pg_answers():
    try:
        _pg_connect().close()
        return True, ""
    except Exception as error:  # noqa: BLE001 - any failure means "not usable yet"
        return False, str(error).strip()


def _start_local_cluster():
    if not shutil.which("pg_lsclusters"):
        return False
    started = False
    for line in subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.splitlines():
        version, cluster, _port, status = line.split()[:4]
        if status != "online":
            say(f"starting PostgreSQL cluster {version}/{cluster}")
            command = ["pg_ctlcluster", version, cluster, "start"]
            if os.geteuid() == 0:
                command.insert(1, "--skip-systemctl-redirect")
            started |= subprocess.run(command).returncode == 0
    return started


def _create_own_role():
    """As root on a machine with a local cluster, give the current user a superuser role."""
    if os.geteuid() != 0 or not shutil.which("createuser"):
        return False
    user = os.environ.get("PGUSER") or "root"
    return subprocess.run(["su", "postgres", "-c", f"createuser --superuser {user}"]).returncode == 0


def ensure_postgres():
    ok, error = _pg_answers()
    if not ok and _start_local_cluster():
        for _ in range(30):
            ok, error = _pg_answers()
            if ok:
                break
            time.sleep(1)
    if not ok and "does not exist" in error and _create_own_role():
        ok, error = _pg_answers()
    if not ok:
        fail(
            "PostgreSQL does not answer: "
            f"{error}\nStart PostgreSQL (12 or newer) and point libpq at it with PGHOST / PGPORT / PGUSER / "
            "PGPASSWORD; the role needs the CREATEDB right and must not be 'postgres'."
        )


def db_exists(name):
    with _pg_connect() as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cr.fetchone() is not None


def db_comment(name):
    with _pg_connect() as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        )
        row = cr.fetchone()
        return row[0] if row else None


def _autocommit(sql, params=None):
    conn = _pg_connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
    finally:
        conn.close()


def drop_db(name):
    from psycopg2 import sql

    _autocommit(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    _autocommit(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    shutil.rmtree(filestore(name), ignore_errors=True)


def copy_db(template, name):
    """A new database from ``template``, with a copy of its filestore (attachments live on disk)."""
    from psycopg2 import sql

    drop_db(name)
    _autocommit(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    if filestore(template).is_dir():
        shutil.copytree(filestore(template), filestore(name))


def filestore(name):
    # Odoo's default data_dir (odoo.conf and ./shoplog set none): $XDG_DATA_HOME/Odoo.
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "Odoo" / "filestore" / name


def set_db_comment(name, comment):
    from psycopg2 import sql

    _autocommit(sql.SQL("COMMENT ON DATABASE {} IS %s").format(sql.Identifier(name)), (comment,))


# --------------------------------------------------------------------------- Odoo commands


def odoo_command(odoo_src, *args):
    return [
        sys.executable,
        str(odoo_src / "odoo-bin"),
        "-c",
        str(ODOO_CONF),
        f"--addons-path={odoo_addons_path(odoo_src)}",
        *args,
    ]


def run_odoo(odoo_src, *args, log_file=None):
    command = odoo_command(odoo_src, *args)
    if log_file:
        command.append(f"--logfile={log_file}")
        Path(log_file).unlink(missing_ok=True)
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode:
        hint = f" (log: {log_file})" if log_file else ""
        fail(f"Odoo exited with {result.returncode} running: {' '.join(args)}{hint}")


def odoo_dependencies():
    """The Odoo modules our add-ons stand on (not ours), read from the manifests."""
    import ast

    deps = set()
    for addon in OUR_ADDONS:
        manifest = ast.literal_eval((ADDONS_DIR / addon / "__manifest__.py").read_text(encoding="utf-8"))
        deps.update(d for d in manifest.get("depends", []) if d not in OUR_ADDONS)
    return sorted(deps)


def addons_digest():
    digest = hashlib.sha256()
    for path in sorted(ADDONS_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ADDONS_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_base_template(odoo_src):
    """A database with only Odoo's own modules that ours depend on (and zh_CN loaded), used as a template.

    Cached by PostgreSQL database comment: rebuilt when the dependencies or the Odoo source change.
    """
    deps = odoo_dependencies()
    key = hashlib.sha256(json.dumps([deps, str(odoo_src), _odoo_build(odoo_src), LANGUAGES]).encode()).hexdigest()
    if db_exists(BASE_TEMPLATE_DB) and db_comment(BASE_TEMPLATE_DB) == key:
        return
    say(f"building the base template database ({', '.join(deps)}); once per Odoo version")
    drop_db(BASE_TEMPLATE_DB)
    run_odoo(
        odoo_src,
        "-d", BASE_TEMPLATE_DB,
        "-i", ",".join(deps),
        f"--load-language={LANGUAGES}",
        "--stop-after-init",
        "--no-http",
        log_file=VAR / "base-template.log",
    )
    set_db_comment(BASE_TEMPLATE_DB, key)


def _odoo_build(odoo_src):
    release = (odoo_src / "odoo" / "release.py").read_text(encoding="utf-8")
    return hashlib.sha256(release.encode()).hexdigest()


def setup():
    VAR.mkdir(exist_ok=True)
    ensure_system_packages()
    odoo_src = find_odoo_source()
    ensure_requirements(odoo_src)
    ensure_postgres()
    return odoo_src


# --------------------------------------------------------------------------- background processes


def _pid_alive(pid_file):
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _spawn(command, pid_file, log_file, env=None):
    log = open(log_file, "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, env=env,
    )
    pid_file.write_text(str(process.pid))
    return process


def _stop(pid_file, name):
    pid = _pid_alive(pid_file)
    if pid:
        say(f"stopping {name} (pid {pid})")
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            if not _pid_alive(pid_file):
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def _simulators_digest():
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tests" / "simulators").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def start_simulators():
    pid_file = VAR / "simulators.pid"
    stamp = VAR / "simulators.sha256"
    digest = _simulators_digest()
    if _pid_alive(pid_file) and stamp.exists() and stamp.read_text() == digest:
        return
    _stop(pid_file, "the simulators (their code changed)")
    stamp.write_text(digest)
    say("starting the simulators of outside services")
    (VAR / "simulators.json").unlink(missing_ok=True)
    _spawn(
        [sys.executable, "-m", "tests.simulators", "--state-file", str(VAR / "simulators.json")],
        pid_file, VAR / "simulators.log",
    )
    for _ in range(50):
        if (VAR / "simulators.json").exists() and _pid_alive(pid_file):
            return
        time.sleep(0.2)
    fail(f"the simulators did not start, see {VAR / 'simulators.log'}")


def _wait_http(url, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(1)
    return False


# --------------------------------------------------------------------------- commands


def cmd_run(_args):
    odoo_src = setup()
    ensure_base_template(odoo_src)
    digest = addons_digest()
    changed = False
    if not db_exists(DEMO_DB):
        say(f"creating the demo database {DEMO_DB} with the four add-ons, zh_CN and demo data")
        copy_db(BASE_TEMPLATE_DB, DEMO_DB)
        run_odoo(
            odoo_src, "-d", DEMO_DB, "-i", ",".join(OUR_ADDONS),
            "--stop-after-init", "--no-http", log_file=VAR / "demo-install.log",
        )
        changed = True
    elif db_comment(DEMO_DB) != digest:
        say("add-on code changed since the last run: upgrading the demo database")
        run_odoo(
            odoo_src, "-d", DEMO_DB, "-u", ",".join(OUR_ADDONS), "--stop-after-init", "--no-http",
            log_file=VAR / "demo-upgrade.log",
        )
        changed = True
    set_db_comment(DEMO_DB, digest)
    start_simulators()
    pid_file = VAR / "odoo.pid"
    if changed:
        _stop(pid_file, "Odoo")
    if not _pid_alive(pid_file):
        if _port_open(HTTP_PORT):
            fail(f"port {HTTP_PORT} is taken by another program; stop it or set SHOPLOG_HTTP_PORT.")
        say(f"starting Odoo on port {HTTP_PORT}")
        _spawn(
            odoo_command(odoo_src, "-d", DEMO_DB, f"--db-filter=^{DEMO_DB}$", f"--http-port={HTTP_PORT}"),
            pid_file, VAR / "odoo.log",
        )
    url = f"http://localhost:{HTTP_PORT}"
    if not _wait_http(f"{url}/web/login"):
        fail(f"Odoo did not answer on {url}, see {VAR / 'odoo.log'}")
    print(
        f"\nshop-logistics is running: {url}\n"
        "  admin / admin            administrator (English)\n"
        "  warehouse / warehouse    warehouse clerk (简体中文)\n"
        f"Logs: {VAR}/odoo.log, {VAR}/simulators.log. Stop with ./shoplog stop\n",
        flush=True,
    )


def default_test_paths():
    addon_tests = [ADDONS_DIR / addon / "tests" for addon in OUR_ADDONS]
    return [str(path) for path in addon_tests if path.is_dir()] + [str(ROOT / "tests")]


def _names_test_paths(pytest_args):
    return any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in pytest_args)


def cmd_test(args):
    odoo_src = setup()
    ensure_base_template(odoo_src)
    say(f"creating the fresh test database {TEST_DB}")
    copy_db(BASE_TEMPLATE_DB, TEST_DB)
    run_odoo(
        odoo_src, "-d", TEST_DB, "-i", ",".join(OUR_ADDONS), "--stop-after-init", "--no-http",
        log_file=VAR / f"{TEST_DB}-install.log",
    )
    env = dict(
        os.environ,
        SHOPLOG_ODOO_SRC=str(odoo_src),
        SHOPLOG_BASE_DB=BASE_TEMPLATE_DB,
        SHOPLOG_INSTALL_LOG=str(VAR / f"{TEST_DB}-install.log"),
        PYTHONPATH=str(ROOT),
    )
    command = [
        sys.executable, "-m", "pytest",
        "--odoo-config", str(ODOO_CONF),
        "--odoo-database", TEST_DB,
        "--odoo-addons-path", odoo_addons_path(odoo_src),
        "--odoo-http",
        "--odoo-extra", f"http-port={_free_port()}",
        "--odoo-extra", "workers=0",
        # The suite (browser, label rendering) outgrows the per-worker address-space cap of odoo.conf.
        "--odoo-extra", "limit-memory-hard=0",
        "-p", "no:cacheprovider",
        *(args.pytest_args if _names_test_paths(args.pytest_args) else [*default_test_paths(), *args.pytest_args]),
    ]
    say("running the tests")
    try:
        returncode = subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        if not os.environ.get("SHOPLOG_TEST_DB"):
            drop_db(TEST_DB)
    sys.exit(returncode)


def cmd_stop(_args):
    _stop(VAR / "odoo.pid", "Odoo")
    _stop(VAR / "simulators.pid", "the simulators")


def main():
    parser = argparse.ArgumentParser(prog="shoplog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="set up and start the demo back office").set_defaults(func=cmd_run)
    test = commands.add_parser(
        "test", help="set up a fresh test database and run every test (extra arguments go to pytest)"
    )
    test.set_defaults(func=cmd_test)
    commands.add_parser("stop", help="stop Odoo and the simulators").set_defaults(func=cmd_stop)
    args, extra = parser.parse_known_args()
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    args.func(args)


if __name__ == "__main__":
    main()
