"""The sender web app and the recipient pages in a real browser (headless Chromium), driving a
real `retract serve` on a loopback port with the file outbox: what a sender and a recipient
see and do, end to end."""

import json
import re
import time

from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                        JavascriptException, StaleElementReferenceException)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import link_in, text_of

RECIPIENT = "bob@example.org"


def wait(driver, timeout=20):
    # A condition that reads the page while a form submission replaces it can hold an
    # element of the old page for a moment: that is "not yet", not a failure.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, JavascriptException))


def body_text(driver):
    """The page's visible text, read in one script call (no element handle to go stale)."""
    return driver.execute_script("return document.body ? document.body.innerText : ''")


def element(driver, element_id, timeout=20):
    return wait(driver, timeout).until(EC.presence_of_element_located((By.ID, element_id)))


def click(driver, element_id):
    def clicked(d):
        try:
            button = d.find_element(By.ID, element_id)
            if not (button.is_displayed() and button.is_enabled()):
                return False
            button.click()
            return True
        except (ElementClickInterceptedException, ElementNotInteractableException):
            return False
    wait(driver).until(clicked)


def fill(driver, element_id, text):
    field = element(driver, element_id)
    field.clear()
    field.send_keys(text)


def csp_violations(driver):
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


def sign_in(driver, server):
    driver.get(server.url + "/app/sign-in")
    fill(driver, "address", server.admin)
    fill(driver, "password", server.password)
    click(driver, "sign-in-button")
    element(driver, "nav-compose")


def compose(driver, subject, body, to=RECIPIENT, delay="", attachment=None, verify=False):
    click(driver, "nav-compose")
    fill(driver, "to", to)
    fill(driver, "subject", subject)
    fill(driver, "body", body)
    fill(driver, "delay", delay)
    if attachment is not None:
        element(driver, "attachments").send_keys(str(attachment))
    if verify:
        click(driver, "verify")
    click(driver, "check-button")
    element(driver, "confirm-form")


def message_id_from_url(driver):
    match = re.search(r"/app/messages/([^/?#]+)", driver.current_url)
    assert match, f"not on a message page: {driver.current_url}"
    return match.group(1)


def open_link(reader, link):
    reader.get(link)
    click(reader, "open-button")


def test_sign_in_undo_send_open_and_revoke_with_a_correction(server, browser, tmp_path):
    sender = browser()
    sign_in(sender, server)

    # A body that mentions an attachment, with none attached: the review page warns, and
    # the sender confirms anyway, with a 30 s undo window; Undo cancels everything.
    compose(sender, "Quarterly figures", "Please see the attached file.", delay="30s")
    findings = element(sender, "findings").text.lower()
    assert "attach" in findings, findings
    click(sender, "send-button")
    element(sender, "countdown")
    cancelled_id = message_id_from_url(sender)
    click(sender, "undo-button")
    wait(sender).until(lambda d: d.find_elements(By.ID, "undo-button") == [])
    time.sleep(1)
    assert server.mails_to(RECIPIENT) == [], "an undone message reached the recipient"
    status = json.loads(server.cli("status", cancelled_id, "--json").stdout)
    assert [(r["address"], r["delivery"]) for r in status["recipients"]] == [(RECIPIENT, "cancelled")], status

    # Sent again, with the attachment and a Chinese subject.
    attachment = tmp_path / "figures.csv"
    attachment.write_text("quarter,revenue\nQ3,42\n")
    compose(sender, "季度报告 第三季度", "Please see the attached file.", attachment=attachment)
    assert sender.find_elements(By.ID, "no-findings") or "attach" not in element(sender, "findings").text.lower()
    click(sender, "send-button")
    element(sender, "recipients")
    message_id = message_id_from_url(sender)
    notification = server.wait_for_mail(RECIPIENT)[0]
    assert str(notification["Subject"]).endswith("季度报告 第三季度") or "季度报告 第三季度" in str(notification["Subject"])
    link = link_in(notification)

    # The recipient opens the link in another browser context (no shared cookies).
    reader = browser()
    open_link(reader, link)
    wait(reader).until(lambda d: "Please see the attached file." in body_text(d))
    assert "figures.csv" in body_text(reader)

    # The sender sees the open, then revokes with a corrected version, after a preview.
    sender.get(f"{server.url}/app/messages/{message_id}")
    element(sender, "revoke-form")
    click(sender, "revoke-scope-all")
    fill(sender, "revoke-reason", "The figures were wrong.")
    fill(sender, "correction-subject", "季度报告 第三季度（更正）")
    fill(sender, "correction-body", "The corrected figures: Q3 revenue 24.")
    click(sender, "preview-button")
    preview = element(sender, "previews").text
    assert RECIPIENT in preview and "The figures were wrong." in preview, preview
    click(sender, "revoke-confirm")
    row = element(sender, "report").find_element(By.XPATH, f".//tr[th[normalize-space()='{RECIPIENT}']]")
    assert row.get_attribute("data-outcome") == "revoked_after_open", row.text

    # The revoked link now shows the withdrawn page, saying a corrected version was sent.
    reader.get(link)
    page = body_text(reader).lower()
    assert "withdrawn" in page and "correct" in page, page
    notices = server.wait_for_mail(RECIPIENT, count=2)
    notice = notices[-1]
    assert str(notice["Subject"]).startswith("Correction:"), notice["Subject"]
    assert notice["In-Reply-To"] == notification["Message-ID"]
    corrected_link = link_in(notice)
    assert corrected_link != link
    open_link(reader, corrected_link)
    wait(reader).until(lambda d: "The corrected figures" in body_text(d))

    assert csp_violations(sender) == [] and csp_violations(reader) == []


def test_a_verified_message_opens_only_with_the_code_mailed_to_the_recipient(server, browser):
    sender = browser()
    sign_in(sender, server)
    compose(sender, "Salary review", "Your new salary is attached below: none, this is a test.", verify=True)
    click(sender, "send-button")
    element(sender, "recipients")
    link = link_in(server.wait_for_mail(RECIPIENT)[0])

    reader = browser()
    reader.get(link)
    element(reader, "verify-text")
    click(reader, "code-button")
    element(reader, "code")
    code_mail = server.wait_for_mail(RECIPIENT, count=2)[-1]
    code = re.search(r"\b(\d{6})\b", text_of(code_mail)).group(1)

    fill(reader, "code", "000000" if code != "000000" else "111111")
    click(reader, "verify-button")
    element(reader, "code-error")

    fill(reader, "code", code)
    click(reader, "verify-button")
    wait(reader).until(lambda d: "Your new salary" in body_text(d))
    assert csp_violations(reader) == []


def test_the_app_switches_to_chinese_and_fits_a_phone_screen(server, browser):
    phone = browser(language="zh-CN", width=390, height=844, phone=True)
    phone.get(server.url + "/app/sign-in")
    assert phone.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    fill(phone, "address", server.admin)
    fill(phone, "password", server.password)
    click(phone, "sign-in-button")
    element(phone, "nav-compose")
    click(phone, "nav-compose")
    element(phone, "to")
    viewport = phone.execute_script("return window.innerWidth")
    width = phone.execute_script("return document.documentElement.scrollWidth")
    assert viewport == 390 and width <= viewport, f"the compose page is {width}px wide on a {viewport}px screen"


def test_keyboard_only_sign_in(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    driver = browser()
    driver.get(server.url + "/app/sign-in")
    element(driver, "address")
    # Tab from the top of the page reaches the address field, then the password, then submit.
    body = driver.find_element(By.TAG_NAME, "body")
    body.click()
    for _ in range(10):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("id") == "address":
            break
    assert driver.switch_to.active_element.get_attribute("id") == "address"
    ActionChains(driver).send_keys(server.admin, Keys.TAB, server.password, Keys.ENTER).perform()
    element(driver, "nav-compose")


def test_an_expired_session_sends_the_sender_back_to_sign_in_with_the_draft_kept(server, browser):
    driver = browser()
    sign_in(driver, server)
    click(driver, "nav-compose")
    fill(driver, "to", RECIPIENT)
    fill(driver, "subject", "Draft that must survive")
    fill(driver, "body", "Half-written text.")
    # The server no longer knows this session (as after the idle timeout).
    driver.delete_cookie("retract_session")
    driver.add_cookie({"name": "retract_session", "value": "A" * 43, "path": "/", "httpOnly": True})
    click(driver, "check-button")
    element(driver, "sign-in-form")
    assert "/app/sign-in" in driver.current_url
    fill(driver, "address", server.admin)
    fill(driver, "password", server.password)
    click(driver, "sign-in-button")
    wait(driver).until(lambda d: element(d, "subject").get_attribute("value") == "Draft that must survive")
    assert element(driver, "body").get_attribute("value") == "Half-written text."
    assert element(driver, "to").get_attribute("value") == RECIPIENT
    assert server.mails_to(RECIPIENT) == []


def test_every_form_control_has_a_label(server, browser):
    driver = browser()
    unlabeled_script = """
      return Array.from(document.querySelectorAll('input, select, textarea'))
        .filter(e => e.type !== 'hidden' && e.type !== 'submit')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.getAttribute('aria-labelledby'))
        .map(e => e.id || e.name);
    """
    driver.get(server.url + "/app/sign-in")
    element(driver, "sign-in-form")
    assert driver.execute_script(unlabeled_script) == [], "/app/sign-in"
    sign_in(driver, server)
    for path in ("/app/compose", "/app/messages"):
        driver.get(server.url + path)
        element(driver, "main")
        assert driver.execute_script(unlabeled_script) == [], path
