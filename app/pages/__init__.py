"""The HTML pages: server-rendered Jinja templates (app/templates) with a little plain JavaScript
and CSS served by the app (app/static), no CDN, no build step. customer.py: the workshop directory,
booking and the Checkout landing pages; mechanic.py: the dashboard (live through
/api/mechanic/events); account.py: signing a browser in and out; html.py: what they share. Each page
makes the same stored-procedure calls as the API."""

from __future__ import annotations


def blueprints() -> tuple:
    from app.pages import account, customer, experiments, html, mechanic

    return (html.assets, account.bp, customer.site, customer.workshops, customer.checkout, mechanic.bp,
            experiments.bp)
