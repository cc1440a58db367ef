"""The staff experiments pages in headless Chromium (the fixtures of test_browser_journey: every
refusal of the Content-Security-Policy fails the test): the demo admin Sam signs in, opens the
list and an experiment with results, sees the intervals chart, at 390 px wide without horizontal
scrolling."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.app.live_server import serve
from tests.app.test_browser_journey import browsers, csp_violations, shoot, sign_in_as, wait_for  # noqa: F401 - fixture
from tests.app.test_experiments_pages import define, with_results


def no_horizontal_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")


def test_sam_opens_the_experiments_and_sees_the_chart_at_390_px(app_config, seeded_conn, browsers):  # noqa: F811
    exp_id = define(seeded_conn, "window-30s")
    with_results(seeded_conn, exp_id)
    with serve(app_config, workers=1, DEMO_SIGN_IN="1") as (base, _fake, _proc):
        sam = browsers()
        sam.set_window_size(390, 844)
        sign_in_as(sam, base, "sam")
        assert sam.execute_script("return window.innerWidth;") <= 400
        sam.get(base + "/staff/experiments/")
        card = sam.find_element(By.CSS_SELECTOR, f'.experiment[data-experiment-id="{exp_id}"]')
        assert "window-30s" in card.text and "running" in card.text
        assert no_horizontal_scroll(sam)
        card.find_element(By.LINK_TEXT, "window-30s").click()
        wait_for(sam, lambda d: d.find_elements(By.CSS_SELECTOR, "svg.intervals"), "the intervals chart")
        chart = sam.find_element(By.CSS_SELECTOR, "svg.intervals")
        assert len(chart.find_elements(By.CSS_SELECTOR, "g.row")) == 8
        assert chart.size["width"] > 200 and chart.size["height"] > 100  # drawn, not collapsed
        # The stylesheet reached the SVG (the CSP allows no inline style): the interval bar is thick.
        bar = chart.find_element(By.CSS_SELECTOR, "g.row line.ci")
        assert sam.execute_script("return getComputedStyle(arguments[0]).strokeWidth;", bar) == "4px"
        sam.execute_script("arguments[0].scrollIntoView();", chart)
        shoot(sam, "staff-experiment")
        assert sam.find_element(By.ID, "stop").is_displayed()
        assert no_horizontal_scroll(sam), sam.execute_script("return document.documentElement.scrollWidth;")
        assert csp_violations(sam) == []
