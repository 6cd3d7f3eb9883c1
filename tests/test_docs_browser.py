"""The documentation site, opened in a real browser: headless Chromium over HTTP on loopback.

Marked ``browser`` (not in the default run): ``make docs`` builds the site, then
``make docs-test`` runs these tests with the docs venv's Selenium (``.ci/run`` does both, on
the current stack). The browser is Debian's ``chromium`` driven by Debian's
``/usr/bin/chromedriver`` (``apt-get install chromium chromium-driver``): Selenium is told
where the driver is and runs offline (``SE_OFFLINE``), so no browser or driver is ever
downloaded. The site is served from ``docs/_build/html`` on 127.0.0.1, on a free port.

One crawl, breadth-first from the home page over the site's own links, visits every page
it can reach; the tests then check what it saw:

- every page loads with no console error (the browser's log at level SEVERE);
- every ``<img>`` has loaded (``naturalWidth > 0``) and every ``<video>`` has its metadata
  (``readyState >= 1``);
- every page the build wrote is reachable from the home page, the chapter's section pages
  among them;
- nothing is loaded from another host (the browser's resource timings, and the HTML/CSS);
- the search page finds ``training_step``.

Screenshots of the home page and of one section page go to ``docs/_build/screenshots/``.
"""

import functools
import http.server
import os
import re
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "docs" / "_build" / "html"
SCREENSHOTS = ROOT / "docs" / "_build" / "screenshots"
CHROMIUM = os.environ.get("HOML_RL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HOML_RL_CHROMEDRIVER", "/usr/bin/chromedriver")
CHAPTER_PAGES = sorted(f"chapter/{path.stem}.html"
                       for path in (ROOT / "docs" / "chapter").glob("*.md"))
"""The chapter's section pages (and their index), as the build writes them."""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000", "--autoplay-policy=no-user-gesture-required"]
LOAD_SECONDS = 20
"""how long a page's images and videos may take to load"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no site in {SITE}: run `make docs` first")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download a driver or browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), f"{path} is missing: apt-get install -y chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


def wait_for(condition, seconds=LOAD_SECONDS, step=0.1):
    """``condition()``'s first truthy value within ``seconds``, else its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


UNLOADED_MEDIA = """
return [].concat(
  Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
       .map(i => 'img ' + i.currentSrc),
  Array.from(document.querySelectorAll('video')).filter(v => v.readyState < 1)
       .map(v => 'video ' + v.currentSrc + ' (readyState ' + v.readyState + ', error ' +
            (v.error && v.error.code) + ')'));
"""


def visit(driver, url):
    """Open ``url`` and return what the page did: links, media, console errors, resources."""
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete")
    # images below the fold load too (a lazy one would wait for a scroll); then wait for all
    driver.execute_script("document.querySelectorAll('img[loading=lazy]')"
                          ".forEach(i => i.loading = 'eager')")
    wait_for(lambda: not driver.execute_script(UNLOADED_MEDIA))
    unloaded = driver.execute_script(UNLOADED_MEDIA)  # what is still not loaded, if anything
    return {
        "links": driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"),
        "images": driver.execute_script("return Array.from(document.images).map(i => i.currentSrc)"),
        "videos": driver.execute_script(
            "return Array.from(document.querySelectorAll('video')).map(v => v.currentSrc)"),
        "unloaded": unloaded,
        "errors": [entry["message"] for entry in driver.get_log("browser")
                   if entry["level"] == "SEVERE"],
        "resources": driver.execute_script(
            "return performance.getEntriesByType('resource').map(r => r.name)"),
    }


def local_page(url, base):
    """The site page ``url`` names (no fragment, no query), or None when it is not one."""
    url = urldefrag(url)[0].split("?")[0]
    if not url.startswith(base):
        return None
    path = url[len(base):] or "index.html"
    if path.endswith("/"):
        path += "index.html"
    return path if path.endswith(".html") else None


@pytest.fixture(scope="module")
def crawl(driver, site_url):
    """Every page reachable from the home page, breadth-first: ``{path: what visit saw}``."""
    seen, queue, pages = {"index.html"}, deque(["index.html"]), {}
    while queue:
        path = queue.popleft()
        pages[path] = visit(driver, site_url + path)
        for link in pages[path]["links"]:
            target = local_page(link, site_url)
            if target and target not in seen and (SITE / target).is_file():
                seen.add(target)
                queue.append(target)
    return pages


def test_every_page_loads_without_a_console_error(crawl):
    errors = {path: page["errors"] for path, page in crawl.items() if page["errors"]}
    assert errors == {}


def test_every_image_and_video_loads(crawl):
    unloaded = {path: page["unloaded"] for path, page in crawl.items() if page["unloaded"]}
    assert unloaded == {}
    # every committed figure and animation is on a page, loaded: the PNGs and GIFs as
    # images, the MP4s as videos (Sphinx copies images to _images/ under their own names)
    shown = {urlparse(src).path.rsplit("/", 1)[-1] for page in crawl.values()
             for src in page["images"] + page["videos"]}
    committed = {path.name for path in (ROOT / "figures").iterdir()
                 if path.suffix in (".png", ".gif", ".mp4")}
    assert len(committed) >= 44
    assert committed - shown == set()


def test_the_navigation_reaches_every_page_from_the_home_page(crawl):
    assert set(CHAPTER_PAGES) <= set(crawl), sorted(set(CHAPTER_PAGES) - set(crawl))
    assert len(CHAPTER_PAGES) >= 10  # the index and the sections
    built = {path.relative_to(SITE).as_posix() for path in SITE.rglob("*.html")}
    unreached = built - set(crawl) - {"search.html", "genindex.html", "py-modindex.html"}
    assert unreached == set()


def test_nothing_is_loaded_from_another_host(crawl, site_url):
    # what the browser fetched...
    foreign = {path: [url for url in page["resources"] if not url.startswith(site_url)
                      and not url.startswith(("data:", "blob:"))]
               for path, page in crawl.items()}
    assert {path: urls for path, urls in foreign.items() if urls} == {}
    # ...and what any page or style sheet of the build could ask for
    asset = re.compile(r"""<(?:script|img|source|video|audio|iframe|embed)\b[^>]*\bsrc=["'](?:https?:)?//"""
                       r"""|<link\b[^>]*\bhref=["'](?:https?:)?//""", re.IGNORECASE)
    css_url = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])(?:https?:)?//""", re.IGNORECASE)
    offenders = [path.relative_to(SITE).as_posix() for path in SITE.rglob("*.html")
                 if asset.search(path.read_text(encoding="utf-8"))]
    offenders += [path.relative_to(SITE).as_posix() for path in SITE.rglob("*.css")
                  if css_url.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_a_foreign_asset_would_be_caught():
    # the pattern of the test above, on a page that loads a font from another host
    asset = re.compile(r"""<link\b[^>]*\bhref=["'](?:https?:)?//""", re.IGNORECASE)
    assert asset.search('<link rel="stylesheet" href="https://fonts.example.org/css">')
    assert not asset.search('<link rel="stylesheet" href="_static/furo.css">')


def test_the_search_finds_training_step(driver, site_url):
    from selenium.webdriver.common.by import By

    driver.get(site_url + "search.html?q=training_step")
    results = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li"))
    assert results, driver.find_element(By.ID, "search-results").text
    texts = " ".join(result.text for result in results)
    assert "homl_rl.dqn.DQN.training_step" in texts, texts  # the API reference's entry
    assert [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_screenshots_of_the_home_page_and_a_section_page(driver, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, name in (("index.html", "home.png"), ("chapter/markov.html", "section_markov.png")):
        visit(driver, site_url + path)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(max(height, 1000), 6000))
        visit(driver, site_url + path)  # laid out again at this size, its images loaded
        temporary = SCREENSHOTS / f".tmp-{name}"
        assert driver.save_screenshot(str(temporary))
        os.replace(temporary, SCREENSHOTS / name)  # atomic
        assert (SCREENSHOTS / name).stat().st_size > 10_000
    driver.set_window_size(1280, 1000)
