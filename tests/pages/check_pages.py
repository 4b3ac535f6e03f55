# SPDX-License-Identifier: MIT
"""check_pages.py PAGE.html... - load each page in headless Chromium (Debian's chromium and
chromium-driver, driven by python3-selenium) and fail on anything broken a reader would meet:

- an image that did not load (complete, with a natural size: a missing or damaged PNG/SVG);
- a link to a file that is not there, or to an anchor (#id) the target page lacks;
- a link that leaves the output folder (a clone has no ../shared, nor anything above it);
- a JavaScript error in the console, or a page with no title.

Links to http(s) addresses are listed, not followed (no network here). Exit status 0 when every
page is sound, 1 with one line per fault otherwise, 77 when the browser is not installed.
"""
import os
import sys
import urllib.parse

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
except ImportError:
    print("check_pages: SKIPPED: python3-selenium is not installed")
    sys.exit(77)

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"

# What the page itself reports: every image's state and every link's target.
PROBE = """
const imgs = Array.from(document.images).map(i => ({
    src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth}));
const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
return {title: document.title, imgs: imgs, links: links, ids: ids};
"""


def driver():
    if not (os.access(CHROMIUM, os.X_OK) and os.access(DRIVER, os.X_OK)):
        print("check_pages: SKIPPED: Debian's chromium and chromium-driver are not installed "
              "(scripts/deps.sh installs them when CI is set or BX_DEPS_BROWSER=1)")
        sys.exit(77)
    o = Options()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--allow-file-access-from-files", "--window-size=1280,2000"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=o)


def ids_of(d, path, cache):
    """The element ids of another local page (loaded once)."""
    if path not in cache:
        d.get("file://" + path)
        cache[path] = set(d.execute_script(PROBE)["ids"])
    return cache[path]


def check(d, page, faults, cache):
    page = os.path.abspath(page)
    root = os.path.dirname(page)
    d.get("file://" + page)
    info = d.execute_script(PROBE)
    cache[page] = set(info["ids"])
    name = page
    if not info["title"].strip():
        faults.append(f"{name}: no title")
    for im in info["imgs"]:
        if not im["complete"] or im["width"] == 0:
            faults.append(f"{name}: broken image {im['src']}")
    for entry in d.get_log("browser"):
        if entry.get("level") == "SEVERE":
            faults.append(f"{name}: console: {entry.get('message')}")
    n_links = 0
    for href in info["links"]:
        n_links += 1
        u = urllib.parse.urlsplit(href)
        if u.scheme in ("http", "https", "mailto"):
            print(f"{name}: external link (not followed): {href}")
            continue
        if u.scheme not in ("", "file"):
            faults.append(f"{name}: link with scheme {u.scheme}: {href}")
            continue
        target = page if not u.path else os.path.normpath(
            os.path.join(root, urllib.parse.unquote(u.path)))
        if not (target == page or target.startswith(root + os.sep)):
            faults.append(f"{name}: link leaves the output folder: {href}")
            continue
        if not os.path.exists(target):
            faults.append(f"{name}: broken link {href} (no {target})")
            continue
        if u.fragment and target.endswith(".html"):
            if urllib.parse.unquote(u.fragment) not in ids_of(d, target, cache):
                faults.append(f"{name}: link {href}: no element with id '{u.fragment}'")
    print(f"{name}: {len(info['imgs'])} images, {n_links} links checked")


def main(pages):
    if not pages:
        print("usage: check_pages.py PAGE.html...", file=sys.stderr)
        return 2
    d = driver()
    faults, cache = [], {}
    try:
        for p in pages:
            if not os.path.exists(p):
                faults.append(f"{p}: no such page")
                continue
            check(d, p, faults, cache)
    finally:
        d.quit()
    for f in faults:
        print("FAULT " + f)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
