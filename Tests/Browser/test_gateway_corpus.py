"""A corpus of real clients' mail (fixtures/corpus: Thunderbird, Outlook/Exchange, Apple Mail,
Gmail; eight charsets; inline images; a meeting request; a forwarded message) goes through
`retract serve --smtp-listen` and reads right in headless Chromium.

Each message is sent as it is, byte for byte, to the recipient it names, from the address
it names (so the reader shows its sender's name). Its notification's link is opened as the
recipient would; the page must show the subject and the sender's name decoded, the text
part's phrases (format=flowed undone), the HTML part's phrases inside the sandboxed frame,
every inline image drawn from the message's own parts, every attachment by its decoded name,
each download byte for byte the decoded part, and "Download the original (.eml)" the message
as sent with only the gateway's trace field in front. The page's own code logs nothing.

What each message must read as is in fixtures/corpus/expectations.json, beside the files;
Python's email package is a second, independent reading of the same files here.
"""

import email
import email.policy
import hashlib
import json
import pathlib
import re
import shutil
import smtplib
import tempfile
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import RETRACT, Server, link_in

CORPUS = pathlib.Path(__file__).resolve().parent / "fixtures" / "corpus"
EXPECTATIONS = json.loads((CORPUS / "expectations.json").read_text())


@pytest.fixture(scope="module")
def delivered():
    """One gateway for the whole corpus: every message sent, and each one's link."""
    if not RETRACT.exists():
        pytest.fail(f"{RETRACT} is missing: build it first (`swift build --product retract`)")
    root = tempfile.mkdtemp(prefix="retract-corpus-")
    server = Server(root, smtp=True)
    try:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as client:
            for name, expect in EXPECTATIONS.items():
                refused = client.sendmail(expect["from_address"], [expect["recipient"]], (CORPUS / name).read_bytes())
                assert refused == {}, (name, refused)
        links = {name: link_in(server.wait_for_mail(expect["recipient"])[0]) for name, expect in EXPECTATIONS.items()}
        yield server, links
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def wait(driver, timeout=20):
    return WebDriverWait(driver, timeout)


def open_link(reader, link):
    reader.get(link)
    wait(reader).until(EC.element_to_be_clickable((By.ID, "open-button"))).click()
    wait(reader).until(EC.presence_of_element_located((By.ID, "subject")))


def text_content(driver, element):
    """The element's text exactly as in the document (no whitespace normalised away)."""
    return driver.execute_script("return arguments[0].textContent", element)


def post_form(server, form_action, key):
    request = urllib.request.Request(
        urllib.parse.urljoin(server.url, form_action), data=urllib.parse.urlencode({"key": key}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers, response.read()


def forms_on_page(reader):
    """Each download form of the page: (button id or name, action, key)."""
    return reader.execute_script("""
        return Array.from(document.querySelectorAll('form[action*="/attachments/"]')).map(f => {
            const button = f.querySelector('button');
            return [button.id || button.textContent, f.getAttribute('action'), f.elements.key.value];
        });""")


def without_trace(message):
    """The message without the Received: fields in front of its first own header field."""
    while message.startswith(b"Received:"):
        _, _, message = message.partition(b"\r\n")
        while message[:1] in (b" ", b"\t"):
            _, _, message = message.partition(b"\r\n")
    return message


def decoded_parts(message_bytes):
    """Python's reading of the message: each leaf part that is not body text (text/plain or
    text/html without a file name, not an attachment) with its file name, type and part; a
    forwarded message (message/rfc822) is one part, not looked into."""
    message = email.message_from_bytes(message_bytes, policy=email.policy.default)
    parts = []

    def is_body(part):
        return (part.get_content_type() in ("text/plain", "text/html") and part.get_filename() is None
                and part.get_content_disposition() != "attachment")

    def walk(part):
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            for child in part.iter_parts():
                walk(child)
        elif not is_body(part):
            parts.append((part.get_filename(), part.get_content_type(), part))

    walk(message)
    return message, parts


@pytest.mark.parametrize("name", list(EXPECTATIONS))
def test_the_corpus_file_is_what_its_expectations_say(name):
    """The fixture itself, read by Python's email package: the names, sizes and digests the
    browser test holds the reader to are those of the file's own parts."""
    expect = EXPECTATIONS[name]
    message, parts = decoded_parts((CORPUS / name).read_bytes())
    assert message.defects == []
    assert str(message["Subject"]) == expect["subject"]
    assert message["From"].addresses[0].display_name == expect["from_name"]
    assert message["From"].addresses[0].addr_spec == expect["from_address"]
    assert len(parts) == len(expect["attachments"]), [p[:2] for p in parts]
    for (filename, media_type, part), wanted in zip(parts, expect["attachments"]):
        assert media_type == wanted["media_type"]
        if filename is not None:
            assert filename == wanted["name"]
        if media_type == "message/rfc822":
            continue  # its bytes are checked against the digest in the browser test
        data = part.get_payload(decode=True)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (wanted["size"], wanted["sha256"])


@pytest.mark.parametrize("name", list(EXPECTATIONS))
def test_corpus_mail_reads_right_in_the_reader(name, delivered, browser):
    server, links = delivered
    expect = EXPECTATIONS[name]
    sent = (CORPUS / name).read_bytes()
    reader = browser()
    open_link(reader, links[name])

    assert reader.find_element(By.ID, "subject").text == expect["subject"]
    assert text_content(reader, reader.find_element(By.ID, "from")) == \
        f"{expect['from_name']} <{expect['from_address']}>"
    body = text_content(reader, reader.find_element(By.ID, "body"))
    for phrase in expect["text"]:
        assert phrase in body, (phrase, body)

    # Every attachment listed by its decoded name, in the message's order, and its download
    # byte for byte the decoded part; the original is offered on its own.
    forms = forms_on_page(reader)
    original = [form for form in forms if form[0] == "download-original"]
    listed = [form for form in forms if form[0] != "download-original"]
    assert len(original) == 1, forms
    assert [form[0] for form in listed] == [a["name"] for a in expect["attachments"]]
    for (label, action, key), wanted in zip(listed, expect["attachments"]):
        headers, data = post_form(server, action, key)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (wanted["size"], wanted["sha256"]), label
        assert headers["Content-Type"].split(";")[0] == wanted["media_type"], label
    for listed_name in expect.get("calendar", []) + ([expect["forwarded"]] if "forwarded" in expect else []):
        assert listed_name in [form[0] for form in listed]

    # The original: what was sent, bar a trace field (Received:) put in front on the way.
    _, eml = post_form(server, original[0][1], original[0][2])
    assert without_trace(eml) == sent

    if expect["html"] or expect["inline_images"]:
        frame = wait(reader).until(EC.presence_of_element_located((By.ID, "mail-html")))
        assert frame.get_attribute("sandbox") == ""
        assert not reader.find_elements(By.ID, "inline-missing")
        wait(reader).until(EC.frame_to_be_available_and_switch_to_it(frame))
        wait(reader).until(lambda d: d.execute_script("return document.readyState") == "complete")
        # As a browser lays it out: runs of blanks and line breaks are one space (not U+00A0).
        html_text = re.sub(r"[ \t\r\n]+", " ", reader.execute_script("return document.body.textContent"))
        for phrase in expect["html"]:
            assert phrase in html_text, (phrase, html_text)
        for alt in expect["inline_images"]:
            images = [img for img in reader.find_elements(By.TAG_NAME, "img") if img.get_attribute("alt") == alt]
            assert len(images) == 1, alt
            assert images[0].get_attribute("src").startswith("data:image/"), alt
            wait(reader).until(lambda d: images[0].get_property("complete"))
            assert images[0].get_property("naturalWidth") > 0, alt
        reader.switch_to.default_content()
    else:
        assert not reader.find_elements(By.ID, "mail-html")

    # Chromium's own request for /favicon.ico (a 404) is the browser's, not the page's.
    console = [entry for entry in reader.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")
               and not (entry["source"] == "network" and "/favicon.ico " in entry["message"])]
    assert console == [], console
