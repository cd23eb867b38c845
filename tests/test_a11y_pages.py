"""axe-core on every page and state of the gallery (tests/gallery.py), light and dark, on the
desktop, and the chat page and its drawer on the phone: nothing critical or serious."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fake_openai import FakeOpenAI
from tests.gallery import SCHEMES, SETUP, SIZES, STATES, Gallery, build, finish, gallery_app
from tests.test_a11y import audit

PHONE_STATES = {"chat-long", "drawer"}


async def test_every_page_and_state_in_both_schemes(  # type: ignore[no-untyped-def]
    browser, fake: FakeOpenAI, data_dir: Path
) -> None:
    problems: list[str] = []

    async def check(gallery: Gallery, size: str, scheme: str, state: Any, page: Any) -> None:
        await state.open(page, gallery, size == "phone")
        problems.extend(await audit(page, f"{state.name} ({size}, {scheme})"))

    with gallery_app(fake, data_dir) as app:
        for scheme in SCHEMES:
            context = await browser.new_context(viewport=SIZES["desktop"], color_scheme=scheme)
            await check(Gallery(app), "desktop", scheme, SETUP, await context.new_page())
            await context.close()
        gallery = await build(browser, app, fake)
        for scheme in SCHEMES:
            for size in SIZES:
                context = await browser.new_context(
                    viewport=SIZES[size],
                    color_scheme=scheme,
                    is_mobile=size == "phone",
                    storage_state=gallery.state,
                )
                page = await context.new_page()
                for state in STATES:
                    wanted = state.name in PHONE_STATES if size == "phone" else not state.phone_only
                    if wanted and state.signed_in:
                        await check(gallery, size, scheme, state, page)
                await context.clear_cookies()
                for state in STATES:
                    if size == "desktop" and not state.signed_in:
                        await check(gallery, size, scheme, state, page)
                await context.close()
        await finish(browser, gallery)
    assert not problems, "\n".join(problems)
