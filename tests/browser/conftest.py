"""Browser tests: a screenshot of the page at the moment a test fails (artifacts/screenshots/FAILED_<test>.png)."""
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "app" in getattr(item, "funcargs", {}):
        from tests.browser.test_app_in_browser import SHOTS

        page = item.funcargs["app"][1]
        try:
            path = SHOTS / f"FAILED_{item.name}.png"
            page.screenshot(path=str(path))
            report.sections.append(("screenshot", str(path)))
        except Exception as e:  # noqa: BLE001 -- a broken page must not hide the real failure
            report.sections.append(("screenshot", f"could not be taken: {e}"))
    return report
