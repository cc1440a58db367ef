"""The HTML pages: server-rendered Jinja templates (app/templates) with a little plain JavaScript
and CSS served by the app (app/static), no CDN, no build step. customer.py: the workshop directory,
booking, the Checkout landing pages and "My bookings" (cancel, review); mechanic.py: the dashboard
(live through /api/mechanic/events: offers, sessions and their moves, presence) and the mechanic's
figures; staff.py: the staff pages (read-only views, two audited actions); account.py: signing a
browser in and out; html.py: what they share. Each page and action makes one stored-procedure
call, the same as the API's where the API has one."""

from __future__ import annotations


def blueprints() -> tuple:
    from app.pages import account, customer, experiments, html, mechanic, staff

    return (html.assets, account.bp, customer.site, customer.workshops, customer.checkout, customer.bookings,
            mechanic.bp, staff.bp, experiments.bp)
