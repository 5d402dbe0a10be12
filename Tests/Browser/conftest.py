"""Fixtures for the browser tests: a real `retract serve` on a loopback port and headless
Chromium driven by Selenium (Debian's chromium + chromium-driver, installed by `make test`).

Each test gets a fresh data and keys directory, the admin sender `retract init` creates, and
a factory for browser windows; every window is its own Chromium profile, so a second window
is a second browser context (no shared cookies). A failing test leaves a screenshot and the
page source of every open window under `.build/browser-artifacts/`.
"""

import email
import email.policy
import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".build" / "browser-artifacts"
RETRACT = pathlib.Path(os.environ.get("RETRACT_BIN", ROOT / ".build" / "debug" / "retract"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `retract serve` with its own directories and the admin's credentials."""

    def __init__(self, root, smtp=False):
        self.root = pathlib.Path(root)
        self.data = self.root / "data"
        self.keys = self.root / "keys"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin = "alice@example.com"
        self.env = dict(os.environ)
        self.env.update(
            RETRACT_DATA_DIR=str(self.data),
            RETRACT_KEYS_DIR=str(self.keys),
            RETRACT_ADMIN=self.admin,
            RETRACT_PUBLIC_URL=self.url,
            RETRACT_FROM="retract@example.com",
            LOG_LEVEL="error",
        )
        self.env.pop("RETRACT_SMTP_URL", None)
        init = self.cli("init")
        self.init_output = init.stdout
        self.password = self._credential(init.stdout, "password")
        self.token = self._credential(init.stdout, "token")
        self.log = open(self.root / "serve.log", "wb")
        # With smtp, the gateway listens too (`--smtp-listen`); loopback clients may relay.
        self.smtp_port = free_port() if smtp else None
        command = [str(RETRACT), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if smtp:
            command += ["--smtp-listen", f"127.0.0.1:{self.smtp_port}"]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                if smtp:
                    socket.create_connection(("127.0.0.1", self.smtp_port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("retract serve exited: " + (self.root / "serve.log").read_text())
                time.sleep(0.1)
        raise RuntimeError("retract serve did not start listening")

    @staticmethod
    def _credential(output, word):
        # `retract init` prints each credential on its own line, e.g. "…password: XXXX".
        for line in output.splitlines():
            if word in line.lower():
                match = re.search(r"(\S+)\s*$", line)
                if match:
                    return match.group(1)
        raise AssertionError(f"retract init printed no {word}:\n{output}")

    def cli(self, *args, check=True):
        result = subprocess.run([str(RETRACT), *args], env=self.env, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"retract {' '.join(args)} failed: {result.stderr}")
        return result

    def outbox(self):
        """Every delivered mail in the file outbox, parsed, oldest first."""
        box = self.data / "outbox"
        if not box.exists():
            return []
        files = sorted(box.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]

    def mails_to(self, address):
        return [m for m in self.outbox() if address in str(m["To"])]

    def wait_for_mail(self, address, count=1, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.mails_to(address)
            if len(mails) >= count:
                return mails
            time.sleep(0.2)
        raise AssertionError(f"no mail #{count} to {address} within {timeout}s; outbox: "
                             f"{[str(m['To']) + ' ' + str(m['Subject']) for m in self.outbox()]}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def text_of(mail):
    part = mail.get_body(preferencelist=("plain",))
    return part.get_content()


def link_in(mail):
    """The personal link: the line of the text part that is only a URL."""
    for line in text_of(mail).splitlines():
        line = line.strip()
        if re.fullmatch(r"https?://\S+/m/\S+", line):
            return line
    raise AssertionError("no link line in mail:\n" + text_of(mail))


@pytest.fixture
def server():
    if not RETRACT.exists():
        pytest.fail(f"{RETRACT} is missing: build it first (`swift build --product retract`)")
    root = tempfile.mkdtemp(prefix="retract-browser-")
    srv = Server(root)
    yield srv
    srv.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def gateway_server():
    """A `retract serve` with the SMTP gateway on a loopback port of its own."""
    if not RETRACT.exists():
        pytest.fail(f"{RETRACT} is missing: build it first (`swift build --product retract`)")
    root = tempfile.mkdtemp(prefix="retract-browser-")
    srv = Server(root, smtp=True)
    yield srv
    srv.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def browser(request):
    """Opens Chromium windows on demand; each is a separate profile (a separate context)."""
    drivers = []

    def open_window(language="en-US", width=1280, height=900, phone=False, network_log=False):
        options = webdriver.ChromeOptions()
        if phone:
            # Desktop Chromium will not make a window this narrow; emulate the device instead.
            options.add_experimental_option(
                "mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 3}})
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", f"--lang={language}"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        # network_log adds the DevTools performance log (every request the page made).
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", **({"performance": "ALL"} if network_log else {})})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.implicitly_wait(0)
        drivers.append(driver)
        return driver

    yield open_window
    failed = getattr(request.node, "failed_call", False)
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, driver in enumerate(drivers):
        if failed:
            stem = f"{request.node.name}-window{index}"
            driver.save_screenshot(str(ARTIFACTS / f"{stem}.png"))
            (ARTIFACTS / f"{stem}.html").write_text(driver.page_source)
            (ARTIFACTS / f"{stem}.console.txt").write_text(
                "\n".join(str(entry) for entry in driver.get_log("browser")))
        driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed_call = True
