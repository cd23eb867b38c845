"""`make screenshots`: every page and state (tests/gallery.py) from the real UI in Chromium,
desktop and phone, light and dark, into docs/screenshots/all/ (listed in its README); the
chat page's pictures are also the README's (docs/screenshots/{desktop,phone}-{light,dark}.png)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.fake_openai import FakeOpenAI
from tests.gallery import (
    SCHEMES,
    SETUP,
    SIZES,
    STATES,
    Gallery,
    State,
    build,
    finish,
    gallery_app,
)

SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
GALLERY = SCREENSHOTS / "all"
README_STATE = "chat-long"  # the picture the README shows for each size and scheme


async def shoot(page: Any, gallery: Gallery, state: State, size: str, scheme: str) -> None:
    await state.open(page, gallery, size == "phone")
    dark = await page.evaluate("document.body.classList.contains('body--dark')")
    assert dark == (scheme == "dark"), f"{state.name} ignores the {scheme} scheme"
    path = GALLERY / f"{state.name}-{size}-{scheme}.png"
    await page.screenshot(path=path, full_page=state.full_page)
    if state.name == README_STATE:
        shutil.copyfile(path, SCREENSHOTS / f"{size}-{scheme}.png")


async def test_screenshots(browser, fake: FakeOpenAI, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    GALLERY.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    variants = [(size, scheme) for size in SIZES for scheme in SCHEMES]

    async def context(size: str, scheme: str, state: dict[str, Any] | None = None) -> Any:
        opened = await browser.new_context(
            viewport=SIZES[size],
            color_scheme=scheme,
            is_mobile=size == "phone",
            storage_state=state,
        )
        page = await opened.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return opened, page

    with gallery_app(fake, data_dir) as app:
        for size, scheme in variants:  # before anyone signed up: the set-up page
            opened, page = await context(size, scheme)
            await shoot(page, Gallery(app), SETUP, size, scheme)
            await opened.close()
        gallery = await build(browser, app, fake)
        for size, scheme in variants:
            opened, page = await context(size, scheme, gallery.state)
            for state in STATES:
                if state.signed_in and (size == "phone" or not state.phone_only):
                    await shoot(page, gallery, state, size, scheme)
            await opened.clear_cookies()
            for state in STATES:
                if not state.signed_in:
                    await shoot(page, gallery, state, size, scheme)
            await opened.close()
        await finish(browser, gallery)
    assert errors == []
