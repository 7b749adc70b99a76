"""The admin SLA page shows the stored policies (issue 11 follow-up): GET /admin/sla-policies."""

from __future__ import annotations

from typing import Any

from browser_harness import BrowserStack, Screenshots
from console_support import sign_in
from playwright.sync_api import expect

expect.set_options(timeout=30_000)


def _sla_tab(page: Any) -> Any:
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("tab", name="SLA policies").click()
    return page.get_by_role("form", name="SLA policies low")


def test_the_sla_page_shows_the_stored_policy_after_a_reload(browser_stack: BrowserStack, page: Any,
                                                             shots: Screenshots) -> None:
    # given an admin on the SLA page of a desk that has stored no low-priority policy yet
    sign_in(page, browser_stack, "ada")
    low = _sla_tab(page)
    expect(low.get_by_label("First response (min)")).to_have_value("480")
    expect(page.get_by_text("Default policy (not saved yet)").last).to_be_visible()
    low.scroll_into_view_if_needed()
    shots.step("defaults before anything is saved")

    # when the admin saves other values for "low"
    low.get_by_label("First response (min)").fill("300")
    low.get_by_label("Resolution (min)").fill("2000")
    low.get_by_label("Business hours only").uncheck()
    low.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    shots.step("the low policy is saved")

    # then a fresh page load shows the stored values, not the defaults
    page.reload()
    low = _sla_tab(page)
    expect(low.get_by_label("First response (min)")).to_have_value("300")
    expect(low.get_by_label("Resolution (min)")).to_have_value("2000")
    expect(low.get_by_label("Business hours only")).not_to_be_checked()
    expect(page.get_by_text("Saved policy")).to_have_count(1)
    low.scroll_into_view_if_needed()
    shots.step("the stored policy after a reload")
