"""Adaptive Cards rendered as Teams renders them: Microsoft's `adaptivecards` renderer with
markdown-it for the Markdown (both pinned in package-lock.json, installed by `make setup`) and
Teams' host config (teams/hostconfig.json), in Debian's Chromium driven by Playwright.

The `adaptivecards` package bundles no JSON schema; each card is checked with the renderer's
own parser and validator instead (AdaptiveCard.parse, then validateProperties): anything either
of them reports is a problem with the card.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chromium
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [
    ROOT / "node_modules" / "markdown-it" / "dist" / "browser" / "markdown-it.umd.min.js",
    ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js",
]
STYLESHEET = ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.css"
HOST_CONFIG = json.loads((ROOT / "teams" / "hostconfig.json").read_text())
# Elements a TextBlock's Markdown could turn its text into; a verbatim quote makes none of them.
MARKUP = (
    "a, strong, em, b, i, code, pre, ol, ul, li, h1, h2, h3, h4, h5, h6, blockquote, table, s, del, img, hr"
)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; padding: 16px; background: #f5f5f5; font-family: 'Segoe UI', sans-serif; }
.card { max-width: 560px; margin: 0 0 16px; border-radius: 6px; background: #fff;
        box-shadow: 0 1px 3px rgba(0,0,0,.2); overflow: hidden; }
</style></head><body></body></html>"""

RENDER = """([card, hostConfig]) => {
    const adaptiveCard = new AdaptiveCards.AdaptiveCard();
    adaptiveCard.hostConfig = new AdaptiveCards.HostConfig(hostConfig);
    const context = new AdaptiveCards.SerializationContext();
    adaptiveCard.parse(card, context);
    const problems = [];
    for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
    for (const event of adaptiveCard.validateProperties().validationEvents) problems.push(event.message);
    const frame = document.createElement("div");
    frame.className = "card";
    frame.appendChild(adaptiveCard.render());
    document.body.appendChild(frame);
    const blocks = {};
    const ids = [];
    const walk = (items) => (items || []).forEach((item) => {
        if (item.id) ids.push(item.id);
        walk(item.items);
    });
    walk(card.body);
    for (const id of ids) {
        const element = adaptiveCard.getElementById(id).renderedElement;
        blocks[id] = {
            paragraphs: Array.from(element.querySelectorAll("p")).map((p) => p.textContent),
            text: element.textContent,
            markup: element.querySelectorAll(MARKUP).length,
        };
    }
    return {
        problems,
        blocks,
        text: frame.innerText,
        markup: frame.querySelectorAll(MARKUP).length,
        buttons: Array.from(frame.querySelectorAll("button")).map((b) => b.textContent),
    };
}""".replace("MARKUP", json.dumps(MARKUP))


class CardRenderer:
    def __init__(self, page: Page) -> None:
        self.page = page

    def clear(self) -> None:
        self.page.evaluate("() => { document.body.innerHTML = ''; }")

    def render(self, card: dict) -> dict:
        """The card rendered below those before it: the parser's and validator's problems; for
        each block with an id, its paragraphs' text, its whole text and how many Markdown
        elements it holds; the card's visible text, Markdown elements and buttons."""
        return self.page.evaluate(RENDER, [card, HOST_CONFIG])

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.locator(".card").first.screenshot(path=str(path))


@contextmanager
def card_renderer(width: int = 600) -> Iterator[CardRenderer]:
    """A page in Chromium with the renderer loaded; nothing is fetched from the network."""
    missing = [str(path) for path in [*SCRIPTS, STYLESHEET] if not path.exists()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing: run `make setup` (npm ci)")
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(PAGE)
            page.add_style_tag(path=str(STYLESHEET))
            for script in SCRIPTS:
                page.add_script_tag(path=str(script))
            yield CardRenderer(page)
        finally:
            browser.close()
