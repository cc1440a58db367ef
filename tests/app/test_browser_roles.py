"""The three roles in a real browser (Chromium, as tests/app/test_browser_journey.py): one journey
across them at desk width (1280 px) and every page at phone width (390 px) and desk width, each
checked for what a person needs:

  - no sideways scroll: document.documentElement.scrollWidth <= innerWidth;
  - touch targets of at least 44 x 44 px: every button, button-like link, navigation link and form
    control (links inside a sentence are exempt, as WCAG 2.5.8 says; a radio's target is its label);
  - an automated accessibility audit, axe-core (dev/axe.py: the pinned version from the npm
    registry), injected through WebDriver (not a script of the page: the Content-Security-Policy
    stays as strict, and the fixture still fails on any refusal it logged): no violation of
    serious or critical impact;
  - keyboard use: a visible focus on the skip link, and journey steps done with the keyboard.

SCREENSHOTS_DIR=docs/screenshots (make screenshots) saves the pictures of docs/PAGES.md."""

from __future__ import annotations

import re
import uuid

import pytest
import stripe
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dev import axe
from tests.app.conftest import ALICE, ANA, AUTOPRO
from tests.app.live_server import serve
from tests.app.test_browser_journey import browsers, pay_and_come_back, shoot, sign_in_as, unlabelled, wait_for
from worker.refunds import process_due_refunds

__all__ = ["browsers"]  # the fixture, shared with the journey's tests

DESK, PHONE = (1280, 900), (390, 844)
SAM = "44444444-4444-4444-8444-000000000001"

OVERFLOW = "return [document.documentElement.scrollWidth, window.innerWidth];"
SMALL_TARGETS = """
const small = [];
for (const el of document.querySelectorAll('button, a, input:not([type=hidden]), select, textarea')) {
  let box = el;
  if (el.type === 'radio' || el.type === 'checkbox') box = el.labels[0] || el;
  else if (el.tagName === 'A' && !el.classList.contains('button') && el.closest('p, dd, li.help, span.help')) continue;
  const r = box.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;  // not rendered
  if (r.width < 44 - 0.5 || r.height < 44 - 0.5)
    small.push(el.outerHTML.slice(0, 120) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
}
return small;"""
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
  .catch(e => done(['axe failed: ' + e]));"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not axe.present():
        pytest.fail("axe-core is needed: python dev/axe.py ensure (make test does it)")
    return axe.SCRIPT.read_text(encoding="utf-8")


def width(driver, size) -> None:
    w, h = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": w < 600})


def audit(driver, axe_source: str, where: str) -> None:
    """The checks of the module's docstring on the page the browser shows now."""
    scroll, inner = driver.execute_script(OVERFLOW)
    assert scroll <= inner, f"{where}: scrolls sideways ({scroll} > {inner} px)"
    assert driver.execute_script(SMALL_TARGETS) == [], f"{where}: targets under 44 px"
    assert unlabelled(driver) == [], f"{where}: unlabelled controls"
    driver.set_script_timeout(60)
    driver.execute_script(axe_source)
    assert driver.execute_async_script(AXE_RUN) == [], f"{where}: axe-core"


def click(driver, css: str) -> None:
    """Click what css finds, again if a live refresh replaced it in between (a stale element)."""
    def attempt(d):
        try:
            d.find_element(By.CSS_SELECTOR, css).click()
        except (StaleElementReferenceException, NoSuchElementException):
            return False
        return True
    wait_for(driver, attempt, f"clicked {css}")


def flash(driver) -> str:
    """The page's flashed messages (read in one script: a page being replaced has no stale element)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('p.flash')).map(e => e.textContent.trim()).join(' ');")


def test_the_journey_across_customer_mechanic_and_staff(app_config, seeded_conn, db_url, browsers, axe_source):
    """Alice books and pays, Ana accepts, starts and completes, Alice reviews; Alice cancels a
    second booking, its refund fails at Stripe, Sam retries it from the staff pages, the worker
    makes it and Alice's bookings page shows it made, without a reload."""
    db = seeded_conn
    with serve(app_config, relay_url=db_url, DEMO_SIGN_IN="1") as (base, fake, _proc):
        ana = browsers()
        width(ana, DESK)
        sign_in_as(ana, base, "ana")
        assert ana.find_element(By.ID, "signed-in-as").text == "Signed in as Ana Torres (AutoPro Mechanics)"
        wait_for(ana, lambda d: d.find_element(By.ID, "live-status").text == "Live updates: on", "stream open")
        assert "You are online" in ana.find_element(By.ID, "presence").text

        alice = browsers()
        width(alice, DESK)
        sign_in_as(alice, base, "alice")
        assert alice.find_element(By.ID, "signed-in-as").text == "Signed in as Alice"
        # Keyboard: the first Tab reaches the skip link, visibly focused.
        alice.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        focused = alice.switch_to.active_element
        assert focused.get_attribute("class") == "skip" and focused.value_of_css_property("outline-style") != "none"
        alice.get(base + f"/workshops/{AUTOPRO}/book")
        wait_for(alice, lambda d: d.find_elements(By.ID, "pay"), "booking form")
        alice.find_element(By.ID, "routing-workshop_only").send_keys(Keys.SPACE)
        cs_id = pay_and_come_back(alice)
        rid, sid = (str(v) for v in db.execute(
            "SELECT session_request_id, session_id FROM checkout_purchases WHERE stripe_checkout_session_id = %s",
            (cs_id,)).fetchone())

        # Ana accepts (live, without a reload): the session just taken shows with its Start button.
        offer = f'.offer[data-request-id="{rid}"]'
        wait_for(ana, lambda d: d.find_elements(By.CSS_SELECTOR, offer), "the offer pushed to Ana")
        click(ana, offer + " form.accept button")
        wait_for(ana, lambda d: "Accepted" in d.find_element(By.ID, "accept-result").text, "accepted")
        wait_for(ana, lambda d: d.find_elements(By.ID, f"start-{sid}"), "the session shown with Start")
        assert "Sessions open: 1 of 1" in ana.find_element(By.ID, "presence").text
        shoot(ana, "dashboard-session")
        audit(ana, axe_source, "dashboard with a session")
        # Complete is not offered before Start; by keyboard: Enter on Start, then Complete.
        assert not ana.find_elements(By.ID, f"complete-{sid}")
        ana.find_element(By.ID, f"start-{sid}").send_keys(Keys.ENTER)
        wait_for(ana, lambda d: "Started: the session is live." in flash(d), "started")
        ana.find_element(By.ID, f"complete-{sid}").send_keys(Keys.ENTER)
        wait_for(ana, lambda d: "Completed" in flash(d), "completed")
        assert db.execute("SELECT status FROM sessions WHERE id = %s", (sid,)).fetchone() == ("completed",)

        # Alice, from the success page to My bookings: the review form of the completed session.
        alice.find_element(By.LINK_TEXT, "My bookings").click()
        wait_for(alice, lambda d: d.find_elements(By.ID, f"review-{sid}"), "the review form")
        alice.find_element(By.ID, f"rating-{sid}-5").send_keys(Keys.SPACE)
        alice.find_element(By.ID, f"comment-{sid}").send_keys("Found the fault in minutes")
        alice.find_element(By.ID, f"review-{sid}").send_keys(Keys.ENTER)
        wait_for(alice, lambda d: "Thank you: your review is published." in flash(d), "reviewed")
        assert db.execute("SELECT rating, comment FROM reviews WHERE session_id = %s", (sid,)).fetchone() == (
            5, "Found the fault in minutes")

        # Ana's figures count it, from the ledger.
        ana.find_element(By.LINK_TEXT, "My figures").click()
        wait_for(ana, lambda d: d.find_elements(By.ID, "figures"), "figures")
        share = db.execute("SELECT payee_share_minor FROM analytics.session_ledger WHERE session_id = %s",
                           (sid,)).fetchone()[0]
        assert share > 0 and "to your workshop" in ana.find_element(By.ID, "earnings").text
        shoot(ana, "figures")

        # A second booking, cancelled before anyone accepts it: the refund fails at Stripe.
        alice.get(base + f"/workshops/{AUTOPRO}/book")
        wait_for(alice, lambda d: d.find_elements(By.ID, "pay"), "booking form")
        alice.find_element(By.ID, "routing-broadcast").send_keys(Keys.SPACE)
        cs2 = pay_and_come_back(alice)
        rid2 = str(db.execute("SELECT session_request_id FROM checkout_purchases WHERE stripe_checkout_session_id = %s",
                              (cs2,)).fetchone()[0])
        alice.find_element(By.LINK_TEXT, "My bookings").click()
        wait_for(alice, lambda d: d.find_elements(By.ID, f"cancel-{rid2}"), "Cancel offered")
        alice.find_element(By.ID, f"cancel-{rid2}").send_keys(Keys.ENTER)
        wait_for(alice, lambda d: "Your request is cancelled. We are refunding 29.00 USD" in flash(d), "cancelled")
        client = stripe.StripeClient(app_config["STRIPE_SECRET_KEY"], base_addresses={"api": fake.url})
        # The fake's webhook for this payment re-fetches the session from the fake: let it land first,
        # so the one failure below is the refund's call and nothing else's.
        wait_for(alice, lambda _d: db.execute("SELECT count(*) FROM stripe_events WHERE stripe_checkout_session_id = %s",
                                              (cs2,)).fetchone()[0] > 0, "the payment's webhook received")
        fake.fail_next(400)  # Stripe refuses the refund (e.g. a disputed charge)
        assert process_due_refunds(db, client)["failed"] == 1
        ref = str(db.execute("SELECT id FROM refunds WHERE session_request_id = %s", (rid2,)).fetchone()[0])
        alice.refresh()
        wait_for(alice, lambda d: "could not refund 29.00 USD automatically" in d.page_source, "failed shown")

        # Sam, staff: the failed refund with Stripe's ids; Retry hands it back to the worker.
        sam = browsers()
        width(sam, DESK)
        sign_in_as(sam, base, "sam")
        assert sam.current_url == base + "/staff/requests"
        assert sam.find_element(By.ID, "signed-in-as").text == "Signed in as Sam Rivera (admin)"
        sam.find_element(By.LINK_TEXT, "Refunds").click()
        card = wait_for(sam, lambda d: d.find_elements(By.ID, f"refund-{ref}"), "the failed refund")[0]
        assert cs2 in card.text and "failed" in card.text
        shoot(sam, "staff-refunds")
        sam.find_element(By.ID, f"note-{ref}").send_keys("card issuer confirmed, try again")
        sam.find_element(By.ID, f"retry-{ref}").click()
        wait_for(sam, lambda d: "Handed back to the refund worker" in flash(d), "retried")
        assert db.execute("SELECT action, subject, staff_id::text FROM ssr_private.staff_actions").fetchall() == [
            ("refund.retry", ref, SAM)]
        # Alice opens her bookings again: the refund is on its way; her list follows it live
        # (bookings.js) and shows it made when the worker made it, without her reloading.
        alice.refresh()
        wait_for(alice, lambda d: "Refunding 29.00 USD to you in full" in d.page_source, "pending again")
        assert process_due_refunds(db, client)["succeeded"] == 1
        wait_for(alice, lambda d: re.search(r"Refunded 29\.00 USD on \d\d \w{3} \d{4}", d.page_source),
                 "the refund shown as made")
        shoot(alice, "bookings")


PAGES = {
    None: ("/account/sign-in", "/workshops/"),
    "alice": ("/workshops/", f"/workshops/{AUTOPRO}/book", "/bookings/", "/checkout/success?session_id={cs}",
              "/checkout/cancel"),
    "ana": ("/mechanic/", "/mechanic/figures"),
    "sam": ("/staff/requests", "/staff/refunds", "/staff/checkouts?all=1", "/staff/reconciliation",
            "/staff/workshops", "/staff/mechanics"),
}
READY = {"/checkout/success": "#progress", "/mechanic/": "#live-status"}


def booked(db, cs: str, routing: str) -> tuple:
    """A paid, fulfilled booking of Alice at AutoPro under Checkout Session cs: (request, session)."""
    pid = db.execute(
        "INSERT INTO checkout_purchases (customer_id, customer_email, plan_code, amount_minor, currency, "
        "preferred_workshop_id, routing_type, stripe_checkout_session_id) VALUES "
        "(%s, 'alice@customer.example', 'video15', 2900, 'usd', %s, %s, %s) RETURNING id",
        (ALICE, AUTOPRO, routing, cs)).fetchone()[0]
    db.execute("SELECT * FROM fulfill_checkout_purchase(%s, %s, 'paid', 2900, 'usd')", (cs, str(pid)))
    return db.execute("SELECT session_request_id, session_id FROM checkout_purchases WHERE id = %s", (pid,)).fetchone()


def test_every_page_at_phone_and_desk_width(app_config, seeded_conn, browsers, axe_source):
    """Every page of every role, with something on it: at 390 px and at 1280 px no sideways scroll,
    44 px targets, labelled controls and no serious or critical axe-core violation."""
    db = seeded_conn
    db.execute("SELECT set_config('app.mechanic_id', %s, FALSE)", (ANA,))
    done_cs, failed_cs = "cs_test_" + uuid.uuid4().hex, "cs_test_" + uuid.uuid4().hex
    ids = {cs: booked(db, cs, "broadcast") for cs in (done_cs, failed_cs)}
    rid, sid = ids[done_cs]
    db.execute("SELECT * FROM accept_session_request(%s, %s)", (rid, ANA))
    db.execute("SELECT * FROM start_session(%s, %s)", (sid, ANA))
    db.execute("SELECT * FROM complete_session(%s, %s)", (sid, ANA))  # Alice may review it; Ana is free again
    db.execute("SELECT set_config('app.customer_id', %s, FALSE)", (ALICE,))
    db.execute("SELECT * FROM cancel_customer_session_request(%s, %s)", (ids[failed_cs][0], ALICE))
    db.execute("SELECT ssr_private.refund_record_attempt(id, 'pi_test_phone', NULL, NULL, '400: disputed', FALSE) "
               "FROM refunds WHERE session_request_id = %s", (ids[failed_cs][0],))
    db.execute("SELECT * FROM note_unresolved_checkout_session('cs_test_phone_lost', 'evt_1', 'No such session', NULL)")
    run = db.execute("SELECT * FROM ssr_private.reconciliation_run_start(now() - interval '2 days')").fetchone()[0]
    db.execute("SELECT * FROM ssr_private.reconciliation_run_finish(%s, NULL)", (run,))

    with serve(app_config, workers=1, DEMO_SIGN_IN="1") as (base, fake, _proc):
        # The open booking (hybrid, AutoPro's window open): its Checkout Session as Stripe (the fake) has it.
        open_cs = fake.add_session(payment_status="paid", status="complete", amount_total=2900, currency="usd")["id"]
        booked(db, open_cs, "hybrid")
        for who, paths in PAGES.items():
            b = browsers()
            if who:
                sign_in_as(b, base, who)
            for path in paths:
                url = base + path.format(cs=open_cs)
                for size in (PHONE, DESK):
                    width(b, size)
                    b.get(url)
                    ready = READY.get(path.split("?")[0], "main h1")
                    wait_for(b, lambda d, css=ready: d.find_elements(By.CSS_SELECTOR, css), f"{path} shown")
                    audit(b, axe_source, f"{path} as {who or 'nobody'} at {size[0]} px")
                    if size == PHONE:
                        name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].strip("/").lower()) or "home"
                        shoot(b, f"phone-{name}")
        # The checks can fail: a page made too wide, a tiny button and an image without a text
        # alternative (added by WebDriver, as a broken template would) are each caught.
        width(b, PHONE)
        b.get(base + "/account/sign-in")
        checks = (
            ("var d = document.createElement('div'); d.style.width = '2000px'; d.textContent = 'x';"
             "document.querySelector('main').appendChild(d);", "scrolls sideways"),
            ("var x = document.createElement('button'); x.textContent = 'x'; x.style.minHeight = '0';"
             "x.style.minWidth = '0'; x.style.padding = '0'; document.querySelector('main').appendChild(x);",
             "targets under 44 px"),
            ("var i = document.createElement('img'); i.src = '/static/style.css'; i.width = 50; i.height = 50;"
             "document.querySelector('main').appendChild(i);", "image-alt"),
        )
        for script, caught in checks:
            b.get(base + "/account/sign-in")
            b.execute_script(script)
            with pytest.raises(AssertionError, match=caught):
                audit(b, axe_source, "a broken page")
