"""Screenshot an Odoo page as a given user with headless Chromium (for checking views by eye).

    .venv/bin/python tools/screenshot.py --login warehouse --password warehouse \
        --path "/odoo/action-shop_logistics.logistics_workbench_action" --out var/workbench.png

``--click SELECTOR`` (repeatable) clicks an element after the page rendered, e.g. a notebook tab or a button
that opens a dialog, waiting ``--wait`` seconds after each click.
"""

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request

import requests
import websocket


def login(base_url, database, user, password):
    session = requests.Session()
    response = session.post(
        f"{base_url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": database, "login": user, "password": password}},
        timeout=30,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit(f"login failed: {response.json()['error']['data']['message']}")
    return session.cookies["session_id"]


def capture(base_url, path, session_id, out, width, height, wait, clicks=()):
    port = 9333
    profile = tempfile.mkdtemp(prefix="shoplog-chromium-")
    browser = subprocess.Popen(
        [
            shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", f"--remote-debugging-port={port}", f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                    targets = json.load(response)
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        counter = iter(range(1, 10_000))

        def call(method, **params):
            message_id = next(counter)
            ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
            while True:
                message = json.loads(ws.recv())
                if message.get("id") == message_id:
                    return message.get("result", {})

        host = base_url.split("//", 1)[1].split(":")[0]
        call("Network.enable")
        call("Network.setCookie", name="session_id", value=session_id, domain=host, path="/")
        call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        call("Page.navigate", url=f"{base_url}{path}")
        time.sleep(wait)
        for selector in clicks:
            found = call(
                "Runtime.evaluate",
                expression=f"(() => {{ const el = document.querySelector({json.dumps(selector)}); "
                "if (el) { el.click(); } return Boolean(el); })()",
                returnByValue=True,
            )
            if not found.get("result", {}).get("value"):
                raise SystemExit(f"nothing to click: {selector}")
            time.sleep(wait)
        data = call("Page.captureScreenshot", format="png")["data"]
        with open(out, "wb") as handle:
            handle.write(base64.b64decode(data))
        ws.close()
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--database", default="shop_logistics_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--path", default="/odoo")
    parser.add_argument("--out", required=True)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let the page render")
    parser.add_argument("--click", action="append", default=[], metavar="SELECTOR",
                        help="CSS selector of an element to click before the screenshot (repeatable)")
    args = parser.parse_args()
    session_id = login(args.url, args.database, args.login, args.password)
    capture(args.url, args.path, session_id, args.out, args.width, args.height, args.wait, args.click)
    print(args.out)


if __name__ == "__main__":
    main()
