"""The whole journey in a real browser: headless Chromium from Debian (dev/chromium.py
installs it), driven by selenium through /usr/bin/chromedriver, against the app under
gunicorn and the Stripe fake's hosted Checkout page. Alice and Ana use two separate browsers
(two profiles), as two people would.

Every browser records what the Content-Security-Policy refused (the console's CSP messages and the
page's `securitypolicyviolation` events): a test fails when the pages, working as a person uses
them, caused any.

SCREENSHOTS_DIR=docs/screenshots (make screenshots) also saves the pictures the README shows."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from dev.chromium import BROWSER, DRIVER
from tests.app.conftest import ALICE, AUTOPRO, DEV
from tests.app.live_server import serve
from tests.dbutil import ACCEPT_AS

WAIT = 20  # seconds: generous bound for a loaded 2-core machine; each wait ends as soon as it holds
# Runs in every document before its own scripts: the policy's refusals reach the console log.
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' on ' + e.documentURI);
});"""


def csp_violations(driver) -> list[str]:
    """The CSP refusals the browser logged since the last call (reading the log empties it)."""
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] or "CSP violation" in e["message"]]


@pytest.fixture
def browsers():
    if not (os.access(BROWSER, os.X_OK) and os.access(DRIVER, os.X_OK)):
        pytest.fail(f"{BROWSER} and {DRIVER} are needed: python dev/chromium.py ensure (make test does it)")
    made = []

    def open_browser():
        profile = tempfile.mkdtemp(prefix="ssr-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = BROWSER
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1100,820", f"--user-data-dir={profile}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # The driver is named explicitly, so selenium's manager downloads nothing.
        driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
        made.append((driver, profile))
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": REPORT_VIOLATIONS})
        return driver

    yield open_browser
    refused = []
    for driver, profile in made:
        try:
            refused += csp_violations(driver)
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    assert refused == [], f"the Content-Security-Policy refused parts of the pages: {refused}"


def shoot(driver, name: str) -> None:
    target = os.environ.get("SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(target) / f"{name}.png"))


def wait_for(driver, condition, message: str):
    return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(condition, message)


def unlabelled(driver) -> list[str]:
    """Form controls a screen reader could not name (no <label>, no aria-label)."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('input:not([type=hidden]), textarea, select'))
            .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.outerHTML);""")


def sign_in_as(driver, base: str, who: str) -> None:
    driver.get(base + "/account/sign-in")
    assert unlabelled(driver) == []
    driver.find_element(By.ID, f"demo-{who}").click()
    wait_for(driver, lambda d: "Signed in as" in d.page_source, f"{who} signed in")


def pay_and_come_back(driver) -> str:
    """Enter on the booking form's Pay button; Stripe's hosted page (the fake) takes the payment
    and sends the customer back to the success page, looking for a mechanic. Returns the cs_ id."""
    driver.find_element(By.ID, "pay").send_keys(Keys.ENTER)
    wait_for(driver, lambda d: "/checkout/success?session_id=cs_" in d.current_url, "back from Checkout")
    wait_for(driver, lambda d: d.find_element(By.ID, "progress").get_attribute("data-state") == "searching",
             "looking for a mechanic")
    return driver.current_url.rsplit("=", 1)[1]


def test_alice_books_hybrid_pays_and_sees_ana_accept_live(app_config, seeded_conn, db_url, browsers):
    with serve(app_config, relay_url=db_url, DEMO_SIGN_IN="1") as (base, _fake, _proc):
        ana = browsers()
        sign_in_as(ana, base, "ana")
        assert ana.current_url == base + "/mechanic/"
        wait_for(ana, lambda d: d.find_element(By.ID, "live-status").text == "Live updates: on", "stream open")
        ana.execute_script("window.notReloaded = true;")

        alice = browsers()
        sign_in_as(alice, base, "alice")
        assert alice.current_url == base + "/workshops/"
        assert "AutoPro Mechanics" in alice.find_element(By.CSS_SELECTOR, "table.directory").text
        shoot(alice, "directory")
        alice.find_element(By.CSS_SELECTOR, f'a[href="/workshops/{AUTOPRO}/book"]').click()
        wait_for(alice, lambda d: d.find_elements(By.ID, "pay"), "booking form")
        assert "This workshop first, then anyone" in alice.page_source
        assert unlabelled(alice) == []
        # Keyboard only: Space picks the strategy, Enter on the button pays.
        alice.find_element(By.ID, "routing-workshop_only").send_keys(Keys.SPACE)
        alice.find_element(By.ID, "routing-hybrid").send_keys(Keys.SPACE)
        assert alice.find_element(By.ID, "routing-hybrid").is_selected()
        # Stripe's hosted page (the fake) takes the payment and sends her back.
        cs_id = pay_and_come_back(alice)
        assert alice.find_element(By.ID, "state-title").text == "Looking for a mechanic"
        wait_for(alice, lambda d: "left before anyone may take it" in d.find_element(By.ID, "state-window").text,
                 "hybrid window counting down")
        wait_for(alice, lambda d: " in line." in d.find_element(By.ID, "state-queue").text, "her place in line")
        shoot(alice, "success-searching")
        request_id = str(seeded_conn.execute(
            "SELECT session_request_id FROM checkout_purchases WHERE stripe_checkout_session_id = %s", (cs_id,)
        ).fetchone()[0])
        assert seeded_conn.execute("SELECT routing_type FROM session_requests WHERE id = %s",
                                   (request_id,)).fetchone()[0] == "hybrid"

        # Ana's dashboard shows the offer without a reload.
        offer = f'.offer[data-request-id="{request_id}"]'
        wait_for(ana, lambda d: d.find_elements(By.CSS_SELECTOR, offer), "the offer pushed to Ana")
        assert ana.execute_script("return window.notReloaded === true;")
        # Another customer's request, open to anyone: it appears too, and when a mechanic of
        # another workshop takes it, it disappears from Ana's page, still without a reload.
        other = str(seeded_conn.execute(
            "SELECT session_request_id FROM ssr_private.fulfill_checkout('diag45', 'cs_test_other_customer', NULL, %s, "
            "'alice@customer.example', 6900, 'usd', NULL, NULL, 'broadcast')", (ALICE,)).fetchone()[0])
        other_offer = f'.offer[data-request-id="{other}"]'
        wait_for(ana, lambda d: d.find_elements(By.CSS_SELECTOR, other_offer), "the second offer pushed to Ana")
        shoot(ana, "dashboard")
        seeded_conn.execute(ACCEPT_AS, (other, DEV))
        wait_for(ana, lambda d: not d.find_elements(By.CSS_SELECTOR, other_offer), "taken by someone else: gone")
        assert ana.find_elements(By.CSS_SELECTOR, offer)
        assert ana.execute_script("return window.notReloaded === true;")
        ana.find_element(By.CSS_SELECTOR, offer + " button").click()
        wait_for(ana, lambda d: "Accepted" in d.find_element(By.ID, "accept-result").text, "accepted")
        assert not ana.find_elements(By.CSS_SELECTOR, offer)

        # Alice's page shows who took it within seconds (the bounded wait), still without a reload.
        wait_for(alice, lambda d: d.find_element(By.ID, "progress").get_attribute("data-state") == "assigned",
                 "mechanic assigned")
        assert alice.find_element(By.ID, "state-title").text == "Mechanic assigned: Ana Torres"
        assert not alice.find_element(By.ID, "state-queue").is_displayed()  # no line once taken
        assert "AutoPro Mechanics" in alice.find_element(By.ID, "state-detail").text
        shoot(alice, "success-assigned")
        row = seeded_conn.execute("SELECT status, mechanic_id::text FROM session_requests WHERE id = %s",
                                  (request_id,)).fetchone()
        assert row == ("accepted", "22222222-2222-4222-8222-000000000001")


def test_directory_next_and_previous_links_walk_by_cursor(app_config, seeded_conn, browsers):
    """27 listed workshops: the Next link (a cursor, not an offset) leads to rows 21-27, all different
    from page 1, and Previous leads back to the same first 20."""
    seeded_conn.execute(
        "INSERT INTO organizations (name, contact_email, status) "
        "SELECT 'Paging ' || lpad(g::text, 2, '0'), 'paging' || g || '@example.com', 'active' "
        "FROM generate_series(1, 25) AS g"
    )
    seeded_conn.execute(
        "INSERT INTO mechanics (name, email, workshop_id, is_available) "
        "SELECT 'M', 'mech-' || o.contact_email, o.id, TRUE FROM organizations AS o WHERE o.name LIKE 'Paging %'"
    )
    total = seeded_conn.execute("SELECT total_count FROM get_workshop_directory(1, 0)").fetchone()[0]
    assert total == 27

    def rows(d):
        return [e.text for e in d.find_elements(By.CSS_SELECTOR, "table.directory tbody th")]

    with serve(app_config, workers=1) as (base, _fake, _proc):
        b = browsers()
        b.get(base + "/workshops/")
        first = rows(b)
        assert len(first) == 20 and "1\N{EN DASH}20 of 27" in b.find_element(By.TAG_NAME, "caption").text
        assert not b.find_elements(By.CSS_SELECTOR, "a[rel=prev]")
        b.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
        wait_for(b, lambda d: "starting_after=" in d.current_url, "page 2 by cursor")
        second = rows(b)
        assert len(second) == 7 and not set(second) & set(first)
        assert "21\N{EN DASH}27 of 27" in b.find_element(By.TAG_NAME, "caption").text
        assert "offset" not in b.current_url and not b.find_elements(By.CSS_SELECTOR, "a[rel=next]")
        b.find_element(By.CSS_SELECTOR, "a[rel=prev]").click()
        wait_for(b, lambda d: "ending_before=" in d.current_url, "back to page 1 by cursor")
        assert rows(b) == first
        assert "1\N{EN DASH}20 of 27" in b.find_element(By.TAG_NAME, "caption").text


def test_an_expired_request_shows_its_refund_going_through_live(app_config, seeded_conn, browsers):
    """Nobody takes Alice's workshop-only request in time: her page says the refund is on its way,
    then, when the refund worker has made it at Stripe, that it went through, without a reload."""
    import stripe

    from worker.refunds import process_due_refunds

    with serve(app_config, DEMO_SIGN_IN="1") as (base, fake, _proc):
        alice = browsers()
        sign_in_as(alice, base, "alice")
        alice.get(base + f"/workshops/{AUTOPRO}/book")
        wait_for(alice, lambda d: d.find_elements(By.ID, "pay"), "booking form")
        alice.find_element(By.ID, "routing-workshop_only").send_keys(Keys.SPACE)
        cs_id = pay_and_come_back(alice)
        alice.execute_script("window.notReloaded = true;")

        seeded_conn.execute("SELECT * FROM ssr_private.sweep_session_requests(now() + interval '2 hours')")
        amount, currency = seeded_conn.execute(
            "SELECT rf.amount_minor, rf.currency FROM refunds AS rf JOIN checkout_purchases AS cp ON rf.purchase_id = cp.id "
            "WHERE cp.stripe_checkout_session_id = %s AND rf.status = 'pending'", (cs_id,)).fetchone()
        money = f"{amount / 100:.2f} {currency.upper()}"
        detail = lambda d: d.find_element(By.ID, "state-detail").text  # noqa: E731
        wait_for(alice, lambda d: d.find_element(By.ID, "progress").get_attribute("data-state") == "expired",
                 "expired")
        assert alice.find_element(By.ID, "state-title").text == "No mechanic was free in time"
        assert detail(alice) == f"Your request expired. We are refunding {money} to you in full."

        client = stripe.StripeClient(app_config["STRIPE_SECRET_KEY"], base_addresses={"api": fake.url})
        assert process_due_refunds(seeded_conn, client)["succeeded"] == 1
        wait_for(alice, lambda d: detail(d).startswith(f"Your request expired. Refunded {money} on "),
                 "the refund shown as made")
        refunded_at = seeded_conn.execute(
            "SELECT rf.succeeded_at AT TIME ZONE 'UTC' FROM refunds AS rf JOIN checkout_purchases AS cp "
            "ON rf.purchase_id = cp.id WHERE cp.stripe_checkout_session_id = %s", (cs_id,)).fetchone()[0]
        # The same words and date as the server's first render of the page.
        assert detail(alice) == (f"Your request expired. Refunded {money} on {refunded_at:%d %b %Y}: it can take "
                                 "5 to 10 business days to show on your statement.")
        assert alice.execute_script("return window.notReloaded === true;")
        shoot(alice, "success-refunded")


def test_the_pages_work_under_the_content_security_policy(app_config, seeded_conn, browsers):
    """The policy is enforced (an inline script is refused, framing the app is refused) and the
    pages a person goes through cause no refusal: sign-in, the directory, booking, the redirect
    to Stripe's hosted page (form-action) and back, the live success page, the cancel page, an
    error page, the dashboard's live stream, Accept and sign-out."""
    with serve(app_config, workers=1, DEMO_SIGN_IN="1") as (base, fake, _proc):
        alice = browsers()
        sign_in_as(alice, base, "alice")
        alice.get(base + f"/workshops/{AUTOPRO}/book")
        wait_for(alice, lambda d: d.find_elements(By.ID, "pay"), "booking form")
        pay_and_come_back(alice)  # the form's 303 to the fake's hosted page, and back
        alice.get(base + "/checkout/cancel")
        assert "cancel" in alice.page_source.lower()
        alice.get(base + "/workshops/00000000-0000-4000-8000-000000000000/book")
        assert "Something is not right" in alice.page_source
        alice.find_element(By.CSS_SELECTOR, "form.inline button").click()  # sign out
        wait_for(alice, lambda d: "/account/sign-in" in d.current_url, "signed out")
        assert csp_violations(alice) == []

        ana = browsers()
        sign_in_as(ana, base, "ana")
        wait_for(ana, lambda d: d.find_element(By.ID, "live-status").text == "Live updates: on", "stream open")
        assert csp_violations(ana) == []

        # Enforced: an inline script is not run, and a page of another origin cannot frame the app.
        ana.execute_script("var s = document.createElement('script'); s.textContent = 'window.inlineRan = 1;';"
                           "document.body.appendChild(s);")
        assert ana.execute_script("return window.inlineRan === undefined;")
        assert any("script-src" in m for m in csp_violations(ana))
        ana.get(fake.url + "/no-such-page")  # another origin (the fake's), then a document framing the app
        ana.execute_script("var f = document.createElement('iframe'); f.src = arguments[0];"
                           "document.body.appendChild(f);", base + "/mechanic/")
        wait_for(ana, lambda d: any("frame-ancestors" in m for m in csp_violations(d)), "framing refused")
