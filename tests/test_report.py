"""``blindlink report``: a self-contained HTML page, checked by parsing it and, where Chromium
is installed, by rendering it headless."""

from __future__ import annotations

import base64
import html
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from blindlink.errors import BlindlinkError
from blindlink.pipeline.demo import run_demo
from blindlink.pipeline.report import write_report
from blindlink.report import FIGURE_IDS, SECTION_IDS, build_report
from helpers import run_cli

pytest.importorskip("matplotlib", reason="the report needs matplotlib: pip install -e '.[test]'")

HOSTILE = '<img src=x onerror="alert(1)">$\\alpha$ & "co"'


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "demo"
    run_demo(folder, n_persons=400, seed=11)
    return folder / "results"


class Page(HTMLParser):
    """Ids, images, and every URL-bearing attribute of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: dict[str, str] = {}
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "img":
            self.images[str(values.get("id"))] = str(values.get("src"))
        for name in ("src", "href", "action", "data", "poster"):
            if values.get(name):
                self.urls.append(str(values[name]))


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_report_has_every_section_and_figure_and_nothing_external(results: Path) -> None:
    path = write_report(results, method="main-effects")
    assert path == results / "report.html"
    text = path.read_text(encoding="utf-8")
    page = parse(text)
    assert set(SECTION_IDS) <= page.ids
    assert set(FIGURE_IDS) == set(page.images)
    for src in page.images.values():
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert all(url.startswith("data:") for url in page.urls)
    assert "http://" not in text and "https://" not in text
    assert not page.tags & {"script", "link", "iframe", "object", "embed"}
    assert "default-src 'none'" in text  # the browser may not fetch anything
    if (results / "public.json").exists():  # written by link: its tables are shown
        assert "not available" not in text.split('id="public-tables"', 1)[1]
    assert 'id="sensitivity-table"' in text and "(chosen)" in text


def test_public_json_tables_are_rendered_whatever_their_shape(
    results: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "results"
    shutil.copytree(results, folder)
    public = {
        "format": "blindlink-public",
        "threshold": 10,
        "tables": {
            "persons_by_agency_combination": [
                {"agencies": ["ngo_north", "hotline"], "persons": 120},
                {"agencies": ["ngo_north", HOSTILE], "persons": None, "suppressed": True},
            ],
            "by sex": {"F": 300, "M": None},
        },
        "notes": ["small cells suppressed", HOSTILE],
    }
    (folder / "public.json").write_text(json.dumps(public), encoding="utf-8")
    text = write_report(folder, method="main-effects").read_text(encoding="utf-8")
    section = text.split('id="public-tables"', 1)[1]
    assert "not available" not in section
    assert section.count("<table") >= 3
    assert "persons_by_agency_combination" in section and "by sex" in section
    assert "ngo_north + hotline" in section and "120" in section
    assert html.escape(HOSTILE, quote=True) in section
    assert "<img src=x" not in text


def test_without_public_json_the_tables_are_not_available(results: Path, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    shutil.copytree(results, folder)
    (folder / "public.json").unlink(missing_ok=True)
    text = write_report(folder, method="main-effects").read_text(encoding="utf-8")
    assert "public.json in this results folder): not available" in text


def test_agency_names_from_files_are_escaped(results: Path, tmp_path: Path) -> None:
    stats_text = (results / "stats.json").read_text(encoding="utf-8")
    renamed = stats_text.replace('"hotline"', json.dumps(HOSTILE, ensure_ascii=False))
    stats = json.loads(renamed)
    assert HOSTILE in stats["records"]["per_agency"]
    text = build_report(stats, None, method="main-effects")
    page = parse(text)
    assert set(FIGURE_IDS) == set(page.images)
    assert "<img src=x" not in text and html.escape(HOSTILE, quote=True) in text


def test_older_stats_without_histogram_or_sensitivity(results: Path) -> None:
    stats = json.loads((results / "stats.json").read_text(encoding="utf-8"))
    del stats["threshold_sensitivity"], stats["linkage"]["score_histogram"]
    page = parse(text := build_report(stats, None, method="main-effects"))
    assert set(page.images) == set(FIGURE_IDS) - {"fig-scores", "fig-sensitivity"}
    assert text.count("not available") >= 3


def test_a_folder_without_stats_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(BlindlinkError, match="stats.json: file not found"):
        write_report(tmp_path)


def test_cli_report(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["report", str(results), "--method", "main-effects"], capsys)
    assert code == 0, err
    assert "report.html" in out and (results / "report.html").is_file()
    code, _, err = run_cli(["report", str(results / "nowhere")], capsys)
    assert code == 3 and "not a folder" in err


def test_without_matplotlib_the_cli_says_what_to_install(
    results: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, _, err = run_cli(["report", str(results)], capsys)
    assert code == 1 and "pip install 'blindlink[report]'" in err


# ------------------------------------------------------------------------------------------
# Rendered in headless Chromium
# ------------------------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images).map(
    (i) => ({id: i.id, width: i.naturalWidth, height: i.naturalHeight, complete: i.complete}));
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(images);
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "headless Chromium is not installed: apt-get install chromium chromium-driver "
        "(Debian packages) to render the report in a browser"
    )


def browse(
    browser: str, page: Path, profile: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *extra,
            page.as_uri(),
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_every_figure_loads_in_headless_chromium(results: Path, tmp_path: Path) -> None:
    browser = chromium()
    text = write_report(results, method="main-effects").read_text(encoding="utf-8")
    # the page allows no script; the probe's copy allows inline script and nothing else more
    probed = text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    probed = probed.replace("</body>", PROBE + "</body>")
    (tmp_path / "probe.html").write_text(probed, encoding="utf-8")
    done = browse(
        browser, tmp_path / "probe.html", tmp_path / "profile", "--dump-dom",
        "--virtual-time-budget=10000",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    dom = parse(done.stdout)
    assert set(SECTION_IDS) <= dom.ids and "probe" in dom.ids, done.stdout[-2000:]
    probe = done.stdout.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]
    images: list[dict[str, Any]] = json.loads(html.unescape(probe))
    assert {i["id"] for i in images} == set(FIGURE_IDS)
    for image in images:
        assert image["complete"] and image["width"] > 300 and image["height"] > 100, image

    shot = tmp_path / "page.png"
    done = browse(
        browser, results / "report.html", tmp_path / "profile2", f"--screenshot={shot}",
        "--window-size=1000,2400",
    )  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as picture:
        grey = picture.convert("L")
        low, high = grey.getextrema()
        assert picture.size == (1000, 2400) and high - low > 100
        assert len(grey.resize((100, 240)).getcolors(256) or []) > 20  # not a blank page
