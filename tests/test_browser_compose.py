"""Real Chromium: what the chat page offers around writing a message. Settings chosen before
the first message, example prompts, editing a question in place, and jumping to the latest
text after scrolling up."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_a11y import audit
from tests.test_browser_chat import ARTIFACTS, set_up

SHOTS = ARTIFACTS / "compose"
AT_BOTTOM = "() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2"


async def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=path)
    return path


async def test_settings_chosen_on_the_new_chat_page_reach_the_model_with_the_first_message(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)

    await page.get_by_label("Model").click()
    await page.get_by_role("option", name="fake-large").click()
    await page.get_by_role("button", name="Chat settings").click()  # labelled with words
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("System prompt").fill("Answer like a pirate.")
    number = dialog.get_by_role("spinbutton", name="Temperature")  # the number, typed
    await number.fill("0.3")
    slider = dialog.get_by_role("slider", name="Temperature")
    await expect(slider).to_have_attribute("aria-valuenow", "0.3")
    await slider.locator("[tabindex='0']").focus()  # and the slider moves the number with it
    await page.keyboard.press("ArrowRight")
    await expect(number).to_have_value("0.4")
    await shot(page, "settings-new-chat")
    problems = await audit(page, "settings on the new-chat page")
    await dialog.get_by_role("button", name="Save").click()
    await page.get_by_text("Settings saved").wait_for()
    assert not fake.chats  # nothing sent yet, no topic yet

    await page.get_by_label("Message").fill("Ahoy?")
    await page.keyboard.press("Enter")
    await page.get_by_text("You said: Ahoy?").wait_for()
    body = fake.chats[-1].json
    assert body["model"] == "fake-large"
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    assert body["temperature"] == 0.4
    # The topic keeps them: its page shows the model, its settings the prompt.
    await page.get_by_role("button", name="Send").wait_for()
    assert await page.get_by_label("Model").inner_text() == "fake-large"
    await page.get_by_role("button", name="Chat settings").click()
    prompt = page.get_by_role("dialog").get_by_label("System prompt")
    assert await prompt.input_value() == "Answer like a pirate."
    assert await page.get_by_role("spinbutton", name="Temperature").input_value() == "0.4"
    await page.keyboard.press("Escape")
    assert not problems, "\n".join(problems)
    # The next new chat starts from the defaults again.
    await page.get_by_role("button", name="New chat").click()
    await page.get_by_text("How can I help?").wait_for()
    assert await page.get_by_label("Model").inner_text() != "fake-large"
    assert not errors


async def test_an_example_prompt_fills_the_box_without_sending(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, color_scheme="dark"
    )
    page = await context.new_page()
    await set_up(page, app)
    problems: list[str] = []
    for width, height in ((1280, 800), (390, 844)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"{app.url}/")
        examples = page.get_by_role("group", name="Example prompts").get_by_role("button")
        await examples.first.wait_for()
        assert await examples.count() == 4
        await page.wait_for_load_state("networkidle")
        await shot(page, f"examples-{width}")
        problems += await audit(page, f"new-chat page, dark, {width} px")
        words = await examples.nth(2).inner_text()
        await examples.nth(2).click()
        box = page.get_by_role("textbox", name="Message")
        await page.wait_for_function(
            "(words) => document.activeElement?.getAttribute('aria-label') === 'Message'"
            " && document.activeElement.value === words",
            arg=words,
        )
        assert await box.input_value() == words
        assert await page.evaluate("document.activeElement.selectionStart") == len(words)
        await page.get_by_text("How can I help?").wait_for()  # still the new-chat page
        await box.fill("")  # no draft left for the next round
    assert not fake.chats  # filled, never sent
    assert not problems, "\n".join(problems)


async def test_a_question_is_edited_in_place_with_the_composer_keys(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    await page.get_by_label("Message").fill("first question")
    await page.keyboard.press("Enter")
    await page.get_by_text("You said: first question").wait_for()
    await page.get_by_role("button", name="Send").wait_for()

    question = page.locator("[data-role=user]").last
    await question.get_by_role("button", name="Edit message").click()
    editor = question.get_by_role("textbox", name="Edit message")  # in the bubble, no dialog
    await editor.wait_for()
    assert await page.get_by_role("dialog").count() == 0
    assert await editor.evaluate("box => document.activeElement === box")
    await editor.fill("second question")
    await page.keyboard.press("Shift+Enter")  # a new line, not sent
    await page.keyboard.type("on two lines")
    await shot(page, "edit-in-place")
    problems = await audit(page, "editing in place")
    assert len(fake.chats) == 1
    await page.keyboard.press("Enter")  # sends, as in the composer
    await page.get_by_text("You said: second question").wait_for()
    await page.locator("[data-role=user]").last.get_by_text("2/2").wait_for()
    assert fake.chats[-1].json["messages"][-1]["content"] == "second question\non two lines"
    await page.get_by_role("button", name="Send").wait_for()

    # Esc cancels: the question is as it was, nothing sent.
    question = page.locator("[data-role=user]").last
    await question.get_by_role("button", name="Edit message").click()
    editor = question.get_by_role("textbox", name="Edit message")
    await editor.fill("never sent")
    await page.keyboard.press("Escape")
    await editor.wait_for(state="detached")
    assert await question.locator(".message").inner_text() == "second question\non two lines"
    assert len(fake.chats) == 2

    # Enter that picks an input method's candidate does not send.
    await question.get_by_role("button", name="Edit message").click()
    editor = question.get_by_role("textbox", name="Edit message")
    await editor.fill("")
    cdp = await page.context.new_cdp_session(page)
    await cdp.send(
        "Input.imeSetComposition", {"text": "nihao", "selectionStart": 5, "selectionEnd": 5}
    )
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229}
    await cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **enter})
    await cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    await cdp.send("Input.insertText", {"text": "你好"})
    assert await editor.input_value() == "你好"
    assert len(fake.chats) == 2
    await page.keyboard.press("Enter")
    await page.get_by_text("You said: 你好").wait_for()
    await page.locator("[data-role=user]").last.get_by_text("3/3").wait_for()
    assert not errors
    assert not problems, "\n".join(problems)


async def test_jump_to_latest_appears_when_scrolled_up_during_a_reply(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    long = "\n\n".join(f"Paragraph {n}: a line of the long reply." for n in range(400))
    fake.enqueue(Reply(long, chunk_size=24, delay=0.02))
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, color_scheme="dark"
    )
    page = await context.new_page()
    await set_up(page, app)
    jump = page.get_by_role("button", name="Jump to latest")
    await page.get_by_label("Message").fill("Talk for a long time")
    await page.keyboard.press("Enter")
    await page.get_by_text("Paragraph 40:").wait_for()
    assert not await jump.is_visible()  # following the reply: at the bottom
    # The reader scrolls up while it is written (at once: a wheel's smooth scroll could still
    # be moving after the click below).
    await page.evaluate("window.scrollBy(0, -1500)")
    await jump.wait_for()
    assert await page.get_by_role("button", name="Stop").is_visible()  # still being written
    await shot(page, "jump-to-latest")
    problems = await audit(page, "jump to latest, dark")
    await jump.click()
    await page.wait_for_function(AT_BOTTOM)
    await jump.wait_for(state="hidden")
    await page.get_by_text("Paragraph 399:").wait_for(timeout=60_000)  # followed to the end
    await page.wait_for_function(AT_BOTTOM)
    assert not await jump.is_visible()
    assert not problems, "\n".join(problems)
