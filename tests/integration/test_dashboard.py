"""The operator console in a real browser (Debian's chromium driven by Playwright) against a
real broker and worker: token, sources, an injected anomaly as a firing alert, a silence made
from it and expired, and the series chart with the anomaly marked at its time.

Screenshots go to ``results/artifacts/dashboard`` (``PADIT_ARTIFACTS_DIR`` overrides).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.stream_support import REPO_ROOT, Stream, Worker, metric_records, produce

pytestmark = pytest.mark.integration

TOKEN = "dashboard-test-token"
CHROMIUM = "/usr/bin/chromium"
SOURCES = ("du-1", "du-2", "web-1")
SPIKED = "du-2"
METRIC = "latency_ms"
STEP_S = 5
MINUTES = 10
SPIKE_MINUTE = 7
# Waits for the stream (windows, detection, group wait) and the console's 5 s polls.
WAIT_MS = 90_000


def artifacts_dir() -> Path:
    path = Path(os.environ.get("PADIT_ARTIFACTS_DIR", REPO_ROOT / "results" / "artifacts"))
    path = path / "dashboard"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)


@dataclass
class Demo:
    stream: Stream
    worker: Worker
    t0: float

    @property
    def spike_start(self) -> float:
        return self.t0 + SPIKE_MINUTE * 60


def _fast_config(tmp: Path) -> Path:
    doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
    doc["alerting"]["route"].update(group_wait="1s", group_interval="2s")
    path = tmp / "padit.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _points(source: str, t0: float) -> list[tuple[float, float]]:
    """Ten minutes of a calm latency (5-6 ms) every 5 s; du-2 jumps to 60-100 ms for 5 s at
    the start of minute 7, then calms down (the spike stays in its 5-minute window, so its
    alert keeps firing)."""
    calm = [(t0 + i * STEP_S, 5.0 + (i % 5) / 5) for i in range(MINUTES * 60 // STEP_S)]
    if source != SPIKED:
        return calm
    spike_at = t0 + SPIKE_MINUTE * 60
    spike = [(spike_at + i, 60.0 + 10 * i) for i in range(5)]
    return [p for p in calm if p[0] < spike_at] + spike + [p for p in calm if p[0] > spike_at + 5]


@pytest.fixture(scope="module")
def demo(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("dashboard")
    stream = Stream(
        kafka_bootstrap,
        tmp,
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_CONFIG=str(_fast_config(tmp)),
        PADIT_API_TOKEN=TOKEN,
    )
    try:
        worker = stream.worker()
        worker.wait_ready()
        # Event times in the recent past, minute-aligned, so the history (the last 24 h by
        # wall clock) keeps them and each minute is one bucket.
        t0 = (int(time.time()) // 60) * 60 - 15 * 60
        records = [r for s in SOURCES for r in metric_records(s, METRIC, _points(s, t0))]
        # A thread of its own: pytest-asyncio keeps an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(
                asyncio.run, produce(stream.bootstrap, stream.topic("metrics"), records)
            ).result()
        yield Demo(stream, worker, float(t0))
    finally:
        stream.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: `make peers` installs Debian's chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, demo: Demo, path: str = "") -> None:
    page.goto(f"{demo.worker.url}/{path}")
    page.get_by_label("token", exact=True).fill(TOKEN)
    page.get_by_role("button", name="Use token").click()


def api(demo: Demo, path: str) -> httpx.Response:
    return httpx.get(
        f"{demo.worker.url}/api/v1{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def test_worker_serves_the_build_without_a_token_and_nothing_outside_it(demo: Demo) -> None:
    index = httpx.get(f"{demo.worker.url}/", timeout=10)
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="\./assets/([^"]+)"', index.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for name in assets:
        asset = httpx.get(f"{demo.worker.url}/assets/{name}", timeout=10)
        assert asset.status_code == 200, name
        assert "immutable" in asset.headers["cache-control"]
        assert (
            asset.content == (REPO_ROOT / "padit_stream" / "ui_dist" / "assets" / name).read_bytes()
        )
    for bad in ("nope.js", "..%2Findex.html", "%2E%2E%2F%2E%2E%2Fpyproject.toml", ".hidden"):
        assert httpx.get(f"{demo.worker.url}/assets/{bad}", timeout=10).status_code == 404, bad
    # The API behind it still wants the token.
    assert httpx.get(f"{demo.worker.url}/api/v1/status", timeout=10).status_code == 401


def test_new_user_enters_the_token_and_sees_the_sources(page: Page, demo: Demo) -> None:
    page.goto(demo.worker.url + "/")
    prompt = page.get_by_role("form", name="API token")
    expect(prompt).to_be_visible(timeout=WAIT_MS)
    expect(prompt).to_contain_text("401")
    shot(page, "01-token-prompt")

    page.get_by_label("token", exact=True).fill("not-the-token")
    page.get_by_role("button", name="Use token").click()
    expect(prompt).to_contain_text("refused", timeout=WAIT_MS)

    page.get_by_label("token", exact=True).fill(TOKEN)
    page.get_by_role("button", name="Use token").click()
    for source in SOURCES:
        expect(page.locator(f'table.sources tr[data-source="{source}"]')).to_be_visible(
            timeout=WAIT_MS
        )
    # Kept for this tab only, never as a cookie.
    assert page.evaluate("sessionStorage.getItem('padit.apiToken')") == TOKEN
    assert page.evaluate("document.cookie") == ""
    assert page.context.cookies() == []
    shot(page, "02-overview")


def test_anomaly_fires_then_a_silence_from_it_mutes_it_and_expiring_unmutes(
    page: Page, demo: Demo
) -> None:
    sign_in(page, demo, "#/alerts")
    row = page.locator(f'li.alert-row[data-source="{SPIKED}"][data-status="firing"]').first
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(row).to_have_attribute("data-muted", "false")
    # Only the spiked source alerts.
    for calm in set(SOURCES) - {SPIKED}:
        expect(page.locator(f'li.alert-row[data-source="{calm}"]')).to_have_count(0)
    alert_id = row.get_attribute("data-alert-id")
    assert alert_id
    shot(page, "03-alert-firing")

    # Its own page: labels, the incident's timeline, and the way back to the list.
    row.locator("a.alert-title").click()
    expect(page.locator(".alert-page h1")).to_contain_text("PaditAnomaly")
    expect(page.get_by_role("region", name="Timeline").locator("tbody tr")).not_to_have_count(
        0, timeout=WAIT_MS
    )
    page.go_back()

    row.get_by_role("link", name="Silence").click()
    form = page.get_by_role("form", name="New silence")
    expect(form).to_be_visible()
    matchers = form.locator("textarea[name=matchers]").input_value()
    assert f'source_id="{SPIKED}"' in matchers.splitlines()
    assert f'metric_name="{METRIC}"' in matchers.splitlines()
    # The preview lists the alert the silence would mute.
    expect(
        form.get_by_test_id("silence-preview").locator(f'[data-alert-id="{alert_id}"]')
    ).to_be_visible(timeout=WAIT_MS)
    form.locator("input[name=created_by]").fill("dashboard test")
    form.locator("input[name=comment]").fill("muting the injected spike")
    shot(page, "04-silence-form")
    form.get_by_role("button", name="Create silence").click()

    silence = page.locator("li.silence-row[data-status=active]").first
    expect(silence).to_be_visible(timeout=WAIT_MS)
    silence_id = silence.get_attribute("data-silence-id")
    assert silence_id
    expect(silence).to_contain_text(f'source_id="{SPIKED}"')

    page.goto(f"{demo.worker.url}/#/alerts")
    muted = page.locator(f'li.alert-row[data-alert-id="{alert_id}"]')
    expect(muted).to_have_attribute("data-muted", "true", timeout=WAIT_MS)
    expect(muted.locator(".muted-badge")).to_have_text("silenced")
    # The API agrees: the alert is silenced by this silence.
    assert api(demo, f"/alerts/{alert_id}").json()["silenced_by"] == [silence_id]
    shot(page, "05-alert-silenced")

    # A second tab keeps the alerts open; it must follow the expiry by polling, unreloaded.
    watcher = page.context.new_page()
    sign_in(watcher, demo, "#/alerts")
    watched = watcher.locator(f'li.alert-row[data-alert-id="{alert_id}"]')
    expect(watched).to_have_attribute("data-muted", "true", timeout=WAIT_MS)
    watcher.evaluate("window.notReloaded = true")

    page.goto(f"{demo.worker.url}/#/silences")
    row_s = page.locator(f'li.silence-row[data-silence-id="{silence_id}"]')
    row_s.get_by_role("button", name="Expire").click()
    row_s.get_by_role("button", name="Yes, expire").click()
    expect(row_s).to_have_count(0, timeout=WAIT_MS)

    expect(watched).to_have_attribute("data-muted", "false", timeout=WAIT_MS)
    expect(watched.locator(".muted-badge")).to_have_count(0)
    assert watcher.evaluate("window.notReloaded") is True
    assert api(demo, f"/alerts/{alert_id}").json()["silenced_by"] == []
    shot(watcher, "06-alert-unmuted")


def test_series_page_marks_the_anomaly_at_its_minute(page: Page, demo: Demo) -> None:
    sign_in(page, demo, f"#/series/{SPIKED}/{METRIC}")
    chart = page.get_by_test_id("value-chart")
    expect(chart.locator("canvas")).to_have_count(1, timeout=WAIT_MS)
    marks = chart.locator(".anomaly-mark")
    expect(marks.first).to_be_visible(timeout=WAIT_MS)
    spike_minute = time.strftime("%Y-%m-%dT%H:%M:00", time.gmtime(demo.spike_start))
    times = [m.get_attribute("data-time") or "" for m in marks.all()]
    assert times and times[0].startswith(spike_minute), (times, spike_minute)
    # Nothing marked before the spike: the calm minutes scored under the threshold.
    assert all(t >= spike_minute for t in times), times

    # On the x axis, the mark sits where its minute falls between the first and last bucket.
    history = api(demo, f"/series/{SPIKED}/{METRIC}").json()["history"]
    assert _epoch(history[0]["time"]) < demo.spike_start < _epoch(history[-1]["time"]), history
    span = _epoch(history[-1]["time"]) - _epoch(history[0]["time"])
    expected = (demo.spike_start - _epoch(history[0]["time"])) / span
    over = chart.locator(".u-over").bounding_box()
    box = marks.first.bounding_box()
    assert over and box
    x = box["x"] + box["width"] / 2 - over["x"]
    assert abs(x / over["width"] - expected) < 0.02, (x, over["width"], expected)

    # The score chart beneath, the alert interval in the list, features and explanation.
    expect(page.get_by_test_id("score-chart").locator("canvas")).to_have_count(1)
    expect(page.locator("ul.intervals li")).not_to_have_count(0)
    expect(page.get_by_role("region", name="Window features")).to_contain_text("p99")
    expect(page.get_by_role("region", name="Detector explanation")).to_contain_text("threshold")
    # Hover: the legend shows the values at the cursor.
    canvas_box = chart.locator(".u-over").bounding_box()
    assert canvas_box
    page.mouse.move(canvas_box["x"] + x, canvas_box["y"] + canvas_box["height"] / 2, steps=5)
    legend = chart.locator(".u-legend")
    expect(legend).to_contain_text(spike_minute.replace("T", " ")[:16])
    shot(page, "07-series-chart")


def _epoch(rfc3339: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_pages_fit_the_viewport(browser: Browser, demo: Demo, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        sign_in(page, demo)
        expect(page.locator(f'table.sources tr[data-source="{SPIKED}"]')).to_be_visible(
            timeout=WAIT_MS
        )
        for route, ready in (
            ("", "table.sources"),
            ("#/series", ".vtable .vrow a"),
            ("#/alerts", "li.alert-row"),
            (f"#/series/{SPIKED}/{METRIC}", ".u-over"),
            ("#/silences/new", "textarea[name=matchers]"),
        ):
            page.goto(f"{demo.worker.url}/{route}")
            expect(page.locator(ready).first).to_be_visible(timeout=WAIT_MS)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{route or 'overview'} is {overflow}px wider than {width}px"
            if width < 500:
                shot(page, f"phone-{route.strip('#/').replace('/', '-') or 'overview'}")
    finally:
        context.close()


BULK = 3000


def test_series_list_holds_thousands_of_series(
    browser: Browser, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Three pages of the API's cursor (1000 a page) in one list that keeps only the rows in
    view in the DOM, searchable and scrollable to the last one."""
    stream = Stream(kafka_bootstrap, tmp_path, PADIT_EMIT_EVERY_SEC="0", PADIT_API_TOKEN=TOKEN)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        worker = stream.worker()
        worker.wait_ready()
        now = float(int(time.time()))
        records = [
            r
            for i in range(BULK)
            for r in metric_records(f"bulk-{i:04d}", METRIC, [(now - 30, 5.0), (now - 20, 6.0)])
        ]
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, produce(stream.bootstrap, stream.topic("metrics"), records))
            pool.shutdown(wait=True)
        page = context.new_page()
        sign_in(page, Demo(stream, worker, now), "#/series")
        count = page.get_by_test_id("series-count")
        expect(count).to_have_text(f"{BULK} of {BULK}", timeout=WAIT_MS)
        rows = page.locator(".vtable .virtual .vrow")
        assert 0 < rows.count() < 100, rows.count()
        # Sorted by source, ascending: scrolling to the end brings the last series in.
        page.get_by_role("button", name="Source").click()
        expect(page.get_by_role("columnheader", name="Source")).to_have_attribute(
            "aria-sort", "ascending"
        )
        page.locator(".vtable .virtual").evaluate("el => { el.scrollTop = el.scrollHeight }")
        last = f"bulk-{BULK - 1:04d}"
        expect(page.locator(".vtable .virtual").get_by_role("link", name=last)).to_be_visible()
        assert rows.count() < 100, rows.count()
        page.get_by_label("search series").fill("bulk-012")
        expect(count).to_have_text(f"10 of {BULK}")
        shot(page, "08-series-list-search")
    finally:
        context.close()
        stream.close()
