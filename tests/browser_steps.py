"""Steps a person takes in the app, for the browser tests: open it, upload, pick, type, read what is shown.

Selectors are the app's ``elem_id``s plus the few Gradio 6.31 DOM details they need (dataframe rows are
``role=gridcell`` divs, gallery captions are ``.caption-label``, narrow pages fold tabs into an overflow menu).
"""

from __future__ import annotations

import re
import time


def console_text(page) -> str:
    return page.locator("#console textarea").input_value()


def wait_console(page, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function("t => document.querySelector('#console textarea').value.includes(t)", arg=text,
                           timeout=timeout)


def wait_value(page, selector: str, value: str) -> None:
    """Wait until an input shows ``value`` (it may be rendered later, e.g. in an accordion)."""
    page.wait_for_function("([s, v]) => document.querySelector(s)?.value === v", arg=[selector, value])


def open_app(page, url: str) -> None:
    """Open the page and wait until its load event (visitor, key status, deep link, preset menu) has run."""
    page.goto(url)
    page.locator("#run-button").wait_for()
    page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')")


def upload(page, path: str) -> None:
    page.locator("#input-file input[type=file]").set_input_files(path)
    page.locator("#input-info").get_by_text("→ output").wait_for()


def replace_picture(page, path: str) -> None:
    """Take the picture out of the box (its Clear button) and drop another, as a person does."""
    page.locator("#input-file").get_by_role("button", name="Clear").click()
    upload(page, path)


def request_id_in(text: str) -> str:
    found = re.search(r"Submitted · request (\S+)", text)
    assert found, text
    return found.group(1)


def open_tab(page, name: str, timeout: float = 30.0) -> None:
    """Click the tab named ``name``, in the tab bar or in the overflow menu a narrow page folds the last tabs
    into, once it is there (a tab the page's load event shows, such as Owner, appears a moment after the page)."""
    deadline = time.monotonic() + timeout
    while True:
        button = page.locator("button[role=tab]", has_text=name).first
        if button.count():
            button.click()
            return
        menu = page.locator(".tabs .overflow-menu button").first
        if menu.count() and menu.is_visible():
            menu.click()
            folded = page.locator(".tabs .overflow-menu .overflow-dropdown button", has_text=name).first
            if folded.count():
                folded.click()
                return
            menu.click()  # closed again; the tab may not be shown yet
        if time.monotonic() > deadline:
            raise AssertionError(f"no tab named {name!r} on the page")
        page.wait_for_timeout(200)


def table_column(page, elem_id: str, name: str) -> list[str]:
    """One column of a gr.Dataframe as shown, top row first (its rows are virtual: role=gridcell divs)."""
    headers = [h.strip() for h in page.locator(f"#{elem_id} [role=columnheader]").all_inner_texts()]
    cells = page.locator(f"#{elem_id} [role=gridcell][data-col='{headers.index(name)}']")
    return [cell.inner_text().strip() for cell in cells.all()]


def choose(page, elem_id: str, option: str) -> None:
    """Pick an option of a gr.Dropdown the way a person does: open it, click the option."""
    page.locator(f"#{elem_id} input").click()
    page.locator(f"#{elem_id}").get_by_role("option", name=option, exact=True).click()


def gallery(page, elem_id: str) -> list[tuple[str, int]]:
    """(caption, natural width of the loaded picture) of every item of a gr.Gallery, once it shows items and all
    have loaded (a gallery inside a just-opened accordion draws its items a moment after the click)."""
    items = page.locator(f"#{elem_id} .gallery-item")
    page.wait_for_function("id => { const imgs = [...document.querySelectorAll(`#${id} .gallery-item img`)];"
                           " return imgs.length > 0 && imgs.every(img => img.complete && img.naturalWidth > 0); }",
                           arg=elem_id)
    return [(item.locator(".caption-label").inner_text().strip(),
             item.locator("img").evaluate("img => img.naturalWidth")) for item in items.all()]


def all_shown(page, elem_id: str) -> bool:
    """Whether every caption of a gallery lies inside the gallery's visible box (not clipped by its scroller)."""
    return page.evaluate("""id => {
        const box = document.querySelector(`#${id} .grid-wrap`).getBoundingClientRect();
        return [...document.querySelectorAll(`#${id} .caption-label`)].every(label => {
            const r = label.getBoundingClientRect();
            return r.top >= box.top && r.bottom <= box.bottom && r.left >= box.left && r.right <= box.right;
        });
    }""", elem_id)


def slider_value(page, name: str) -> float:
    return float(page.locator(f"#param-{name} input[type=number]").input_value())


def set_number(page, name: str, value: str) -> None:
    """Type into a parameter's number box and leave it, as a person does."""
    box = page.locator(f"#param-{name} input[type=number]")
    box.fill(value)
    box.blur()


def open_advanced(page) -> None:
    if not page.locator("#param-guidance_scale").is_visible():
        page.locator("#advanced").get_by_text("Advanced").click()
    page.locator("#param-guidance_scale input[type=number]").wait_for()


def field_info(page, name: str) -> str:
    return page.locator(f"#param-{name} [data-testid=block-info] + .info-text, #param-{name} .info-text"
                        ).first.inner_text()


CONTRAST = """selector => {
    // WCAG contrast of an element's text against the first opaque background behind it.
    const rgb = text => text.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92
        : ((v + 0.055) / 1.055) ** 2.4).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const element = document.querySelector(selector);
    let back = element;
    while (back && (getComputedStyle(back).backgroundColor.startsWith("rgba") &&
                    rgb(getComputedStyle(back).backgroundColor)[3] === 0)) back = back.parentElement;
    const [a, b] = [lum(rgb(getComputedStyle(element).color)),
                    lum(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255, 255, 255)"))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= innerWidth + 1")


def open_accordions(page) -> None:
    """Open every closed accordion that is on screen, nested ones too, without touching anything inside."""
    for _ in range(20):
        closed = [wrap for wrap in page.locator("button.label-wrap:not(.open)").element_handles()
                  if wrap.is_visible()]
        if not closed:
            return
        closed[0].click()
        page.wait_for_timeout(200)


def open_everything(page) -> None:
    """Open every tab (inner tabs too) and every accordion in each, as a curious person does, changing nothing."""
    names = [name.strip() for name in page.locator(".tabs").first.locator("button[role=tab]").all_inner_texts()]
    for name in names:
        open_tab(page, name)
        open_accordions(page)
        inner = page.locator(".tabs .tabs button[role=tab]")
        for index in range(inner.count()):
            if inner.nth(index).is_visible():
                inner.nth(index).click()
                open_accordions(page)
    try:
        page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar')")
    except Exception:
        print("STUCK:", page.evaluate("() => [...document.querySelectorAll('.progress-text, .eta-bar')].map(e => "
                                      "(e.closest('[id]') || {}).id + ' ' + e.textContent)"))
        raise


def type_region(page, x: object, y: object, width: object, height: object) -> None:
    """Type the region panel's four boxes (x, y, width, height) and leave each, as a person does."""
    for name, value in (("x", x), ("y", y), ("width", width), ("height", height)):
        box = page.locator(f"#region-{name} input, #region-{name} textarea").first
        box.fill(str(value))
        box.blur()


SQUEEZED_HEADERS = """id => [...document.querySelectorAll(`#${id} [role=columnheader] .header`)].filter(header => {
    const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
    const tops = new Set();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
            if (!node.data[i].trim()) continue;
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const box = range.getBoundingClientRect();
            if (box.height) tops.add(Math.round(box.top));
        }
    }
    return tops.size > header.innerText.trim().split(/\\s+/).length;  // more lines than words: a word broken
}).map(header => header.innerText.trim())"""


def squeezed_headers(page, elem_id: str) -> list[str]:
    """The column headers of a gr.Dataframe drawn on more lines than they have words (a word broken letter by
    letter in a column squeezed too narrow; the header's text, not its menu button)."""
    return page.evaluate(SQUEEZED_HEADERS, elem_id)
