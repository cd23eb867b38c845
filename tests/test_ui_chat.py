"""The chat pane through NiceGUI's simulated user, on the fake OpenAI server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from pages.conversation import FOLLOWER
from pages.sidebar import Sidebar
from services.errors import StoreUnavailable
from services.models import Message
from tests import ui_state
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_ui_auth import OWNER, set_up_owner


@pytest.fixture
def fake(ui_fake: FakeOpenAI) -> FakeOpenAI:
    """The model server; requested before `user` so the app starts pointed at it."""
    return ui_fake


async def send(user: User, text: str) -> None:
    # Send comes back after a reply once NiceGUI's binding next looks (every 0.1 s), which
    # can be after the finished reply is drawn.
    await user.should_see(marker="send", retries=20)
    user.find(marker="composer").type(text)
    user.find(marker="send").click()


async def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def following() -> bool:
    """Whether a page is still showing a reply, or wrapping one up (redraw, then sidebar)."""
    return any(t.get_name() == FOLLOWER and not t.done() for t in asyncio.all_tasks())


async def shown_topic(user: User) -> str:
    """The id of the topic the page shows: the one its sidebar marks as the current page. (The
    page opens topics in place and moves the address through the history API, which the
    simulated user's `back_history` does not follow.)"""

    def current() -> list[str]:
        assert user.client is not None
        with user.client:
            links = ElementFilter(kind=ui.link, marker="topic-link")
            return [str(link.props["href"]) for link in links if link.props.get("aria-current")]

    await wait_for(lambda: len(current()) == 1, "the sidebar to mark the topic shown")
    return current()[0].split("/topic/")[1].split("#")[0]


async def test_a_reply_arrives_in_steps(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    text = "First part. Second part. **Bold end.**"
    reply = Reply(text, chunk_size=4, delay=0.05, hold_after=text.index("**"))
    fake.enqueue(reply)
    await send(user, "Hello model")
    await user.should_see("Hello model")
    await user.should_see("First part.", retries=50)
    await user.should_not_see("Bold end.", retries=1)  # still arriving: the fake holds it
    reply.release()
    await user.should_see("Bold end.", retries=100)
    assert fake.chats[-1].json["messages"][-1]["content"] == "Hello model"


async def test_stop_keeps_the_partial_reply(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    fake.enqueue(Reply("tick " * 500, chunk_size=5, delay=0.02))
    await send(user, "count forever")
    await user.should_see("tick", retries=50)
    user.find(marker="stop").click()
    await user.should_see("Stopped.", retries=50)
    await wait_for(lambda: fake.disconnects, "the provider connection to close")


async def test_provider_error_shows_a_banner_and_retry_works(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    fake.enqueue(Reply("x", status=429, retry_after=30))
    await send(user, "are you there?")
    await user.should_see("are you there?")
    await user.should_see("Retry", retries=50)
    fake.enqueue("Yes, I am here now.")
    user.find("Retry").click()
    await user.should_see("Yes, I am here now.", retries=100)


async def test_regenerate_offers_versions(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    fake.enqueue("Answer A")
    await send(user, "question")
    await user.should_see("Answer A", retries=100)
    await user.should_see(marker="regenerate", retries=50)  # the reply may show before it ends
    fake.enqueue("Answer B")
    user.find(marker="regenerate").click()
    await user.should_see("Answer B", retries=100)
    await user.should_see("2/2", retries=50)
    user.find(marker="previous-version").click()
    await user.should_see("Answer A", retries=50)
    await user.should_see("1/2")


async def test_reload_mid_stream_shows_the_text_so_far(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    fake.enqueue(Reply("alpha beta gamma delta " * 20, chunk_size=6, delay=0.03))
    await send(user, "greek letters")
    await user.should_see("alpha", retries=50)
    await user.open(f"/topic/{await shown_topic(user)}")  # a reload: a new client on the same topic
    await user.should_see("alpha beta", retries=50)
    await wait_for(lambda: not fake.disconnects, "the reply to keep streaming")
    await user.should_see("delta alpha", retries=200)


async def test_topic_model_and_system_prompt_reach_the_model(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    await send(user, "first")
    await user.should_see("You said: first", retries=100)
    user.find(marker="model").click()
    user.find("fake-large").click()
    user.find(marker="topic-settings").click()
    await user.should_see("System prompt")  # the dialog is open
    user.find("System prompt").type("Answer like a pirate.")
    user.find(marker="save-settings").click()
    await user.should_see("Settings saved", retries=50)
    await send(user, "second")
    await user.should_see("You said: second", retries=100)
    body = fake.chats[-1].json
    assert body["model"] == "fake-large"
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}


async def test_the_usage_page_sums_tokens_per_model_and_day(fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    fake.enqueue(Reply("one two three"), Reply("four five"))
    await send(user, "first question")
    await user.should_see("one two three", retries=100)
    await send(user, "second question")
    await user.should_see("four five", retries=100)
    user.find(marker="account-menu").click()
    user.find(marker="usage").click()
    await user.should_see("Tokens used in the last 30 days", retries=50)
    (table,) = user.find(marker="usage-by-model").elements
    (row,) = table.rows  # type: ignore[attr-defined]
    assert row["model"] == "gpt-4o-mini" and row["replies"] == "2"  # numbers as Babel writes them
    prompt, completion, total = (
        int(row[key].replace(",", "")) for key in ("prompt", "completion", "total")
    )
    assert total == prompt + completion > 0


@pytest.mark.parametrize(
    ("reply", "shown", "partial"),
    [
        (Reply("x", status=401), "check OPENAI_API_KEY", ""),
        (Reply("x", status=429, retry_after=30), "Try again in 30 s", ""),
        (Reply("x", status=500), "is unavailable (HTTP 500)", ""),
        (Reply("first half, second half", chunk_size=5, fault="cut"), "ended the reply", "first"),
        (Reply("alpha beta gamma delta", chunk_size=5, fault="malformed"), "could not read", "alp"),
        (Reply("", fault="empty"), "empty reply", ""),
        (Reply("slow start then", chunk_size=5, fault="stall"), "timed out", "slow"),
    ],
    ids=["401", "429", "500", "cut", "malformed", "empty", "stall"],
)
async def test_provider_faults_show_in_the_page_and_keep_what_arrived(
    fake: FakeOpenAI, user: User, reply: Reply, shown: str, partial: str
) -> None:
    await set_up_owner(user)
    fake.enqueue(reply)
    await send(user, "my precious question")
    await user.should_see(shown, retries=100)  # the stall ends at the 5 s read timeout
    await user.should_see("my precious question")
    await user.should_see("Retry")
    if partial:
        await user.should_see(partial)


def in_conversation(element: ui.element) -> bool:
    while element.parent_slot is not None:
        element = element.parent_slot.parent
        if "messages" in element.classes:
            return True
    return False


async def test_a_new_reply_redraws_only_the_end_of_the_conversation(
    fake: FakeOpenAI, user: User
) -> None:
    """The turns above a new or regenerated reply stay as drawn while it starts and finishes;
    the reply drawn live is replaced by the finished one, once."""
    await set_up_owner(user)

    def drawn_above() -> set[int]:
        """The conversation's elements showing the first question and reply."""
        found = user.find("question one").elements | user.find("Answer one").elements
        return {element.id for element in found if in_conversation(element)}

    def replies_ended(count: int) -> bool:
        try:
            return len(user.find(marker="regenerate").elements) == count
        except AssertionError:  # none yet
            return False

    fake.enqueue("Answer one")
    await send(user, "question one")
    await wait_for(lambda: replies_ended(1), "the first reply to end")
    above = drawn_above()
    assert len(above) == 2
    fake.enqueue(Reply("Answer two", chunk_size=3, delay=0.02))
    await send(user, "question two")
    await user.should_see("Answer two", retries=100)
    await wait_for(lambda: replies_ended(2), "the second reply to end")
    assert drawn_above() == above
    assert len(user.find("question two").elements) == 1
    assert len(user.find("Answer two").elements) == 1

    fake.enqueue("Answer two, again")
    latest = max(user.find(marker="regenerate").elements, key=lambda element: element.id)
    UserInteraction(user, {latest}, None).click()
    await user.should_see("Answer two, again", retries=100)
    await user.should_see("2/2", retries=50)
    await wait_for(lambda: replies_ended(2), "the new version to end")
    assert drawn_above() == above
    assert len(user.find("question two").elements) == 1


@dataclass
class HeldWrites:
    """The exchanges' rows, held (a busy database thread) until `released` is set; then
    written, or refused as on a full disk when `failing`."""

    released: asyncio.Event = field(default_factory=asyncio.Event)
    failing: bool = False


@pytest.fixture
def held_writes(user: User) -> Iterator[HeldWrites]:
    """Released at the end whatever happened, so the app can shut down."""
    held = HeldWrites()
    yield held
    held.released.set()


async def first_exchange_then_hold(
    fake: FakeOpenAI, user: User, held: HeldWrites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign up and ask a first question (its rows written as usual); the next are held."""
    await set_up_owner(user)
    fake.enqueue("first answer")
    await send(user, "question one")
    await user.should_see(marker="regenerate", retries=100)
    services = ui_state.services
    assert services is not None
    add_messages = services.store.add_messages

    async def held_add(messages: list[Message]) -> list[Message]:
        await held.released.wait()
        if held.failing:
            raise StoreUnavailable("The database could not be written: disk is full.")
        return await add_messages(messages)

    monkeypatch.setattr(services.store, "add_messages", held_add)


async def test_a_reply_shows_with_its_first_words_while_its_rows_are_written(
    fake: FakeOpenAI, user: User, held_writes: HeldWrites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy machine the rows can take longer than the model's first words: the page
    shows the question and those words without waiting for them, then saves as usual."""
    await first_exchange_then_hold(fake, user, held_writes, monkeypatch)
    fake.enqueue(Reply("early words, then the rest", chunk_size=12, delay=0.05))
    await send(user, "question two")
    await user.should_see("early words", retries=100)
    await user.should_see("question two")
    assert not held_writes.released.is_set()  # shown while the rows wait
    held_writes.released.set()
    await user.should_see("early words, then the rest", retries=100)

    def finished() -> bool:  # this reply drawn as saved, with its own Regenerate
        try:
            return len(user.find(marker="regenerate").elements) == 2
        except AssertionError:
            return False

    await wait_for(finished, "the reply to be drawn as saved")
    services = ui_state.services
    assert services is not None
    (owner,) = await services.store.list_users()
    topic_id = await shown_topic(user)
    saved = [m.content for m in await services.store.list_messages(owner.id, topic_id)]
    assert saved == ["question one", "first answer", "question two", "early words, then the rest"]


async def test_a_reply_shown_before_its_rows_fail_is_taken_off_the_page(
    fake: FakeOpenAI, user: User, held_writes: HeldWrites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first words came, then the database refused the rows: the question and reply go
    from the page, the error says why, and the question stays in the message box."""
    await first_exchange_then_hold(fake, user, held_writes, monkeypatch)
    fake.enqueue(Reply("doomed words and more", chunk_size=6, delay=0.05))
    await send(user, "question two")
    await user.should_see("doomed words", retries=100)
    held_writes.failing = True
    held_writes.released.set()
    await user.should_see("disk is full", retries=100)
    await user.should_not_see("doomed words", retries=100)

    def question_drawn() -> bool:
        try:
            found = user.find("question two").elements
        except AssertionError:
            return False
        return any(in_conversation(element) for element in found)

    await wait_for(lambda: not question_drawn(), "the question to go")
    (box,) = user.find(marker="composer").elements
    assert box.value == "question two"
    await user.should_see("first answer")


async def test_send_is_back_the_moment_a_reply_ends(
    fake: FakeOpenAI, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop shows while a reply is written. Send is back as soon as the reply ends, before the
    page redraws the reply and the sidebar: a polled binding brought it back up to 0.1 s late,
    and a question typed meanwhile could not be sent."""
    await set_up_owner(user)
    (send_button,) = user.find(marker="send").elements
    at_wrap_up: list[tuple[bool, bool]] = []  # (Send shown, Stop shown) as the sidebar redraws
    refresh = Sidebar.refresh

    async def noting_refresh(self: Sidebar) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name() == FOLLOWER:  # the followed reply's wrap-up
            at_wrap_up.append((send_button.visible, stop_button.visible))
        await refresh(self)

    monkeypatch.setattr(Sidebar, "refresh", noting_refresh)
    fake.enqueue(Reply("a slow answer", chunk_size=2, delay=0.05))
    await send(user, "a question")
    await user.should_see(marker="stop", retries=50)
    (stop_button,) = user.find(marker="stop").elements
    assert not send_button.visible
    await user.should_see("a slow answer", retries=100)
    await wait_for(lambda: bool(at_wrap_up), "the reply's wrap-up")
    assert at_wrap_up == [(True, False)]


async def test_a_reply_started_while_the_last_one_wraps_up_is_shown(
    fake: FakeOpenAI, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply that ends is redrawn, then the sidebar, by the task that followed it. A reply
    started meanwhile (from another tab, or the API) is shown once that is done: it was
    dropped before."""
    await set_up_owner(user)
    refresh = Sidebar.refresh
    armed, held, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def held_refresh(self: Sidebar) -> None:
        task = asyncio.current_task()
        if armed.is_set() and task is not None and task.get_name() == FOLLOWER:
            held.set()  # the followed reply's end, once armed: the second reply's
            await release.wait()
        await refresh(self)

    monkeypatch.setattr(Sidebar, "refresh", held_refresh)
    # The first reply lasts long enough to be followed too (CI saw a quick one caught either
    # way). Its wrap-up is over before the hold is armed: the hold is for the second's end.
    fake.enqueue(Reply("first answer", chunk_size=3, delay=0.05))
    await send(user, "a question")
    await user.should_see("first answer", retries=100)
    await wait_for(lambda: not following(), "the first reply's wrap-up")
    armed.set()
    topic_id = await shown_topic(user)
    services = ui_state.services
    assert services is not None
    (owner,) = await services.store.list_users()
    reply = (await services.store.list_messages(owner.id, topic_id))[-1]

    fake.enqueue(Reply("second answer", chunk_size=3, delay=0.05))  # followed as it grows
    await services.chat.regenerate(owner.id, reply.id)
    await asyncio.wait_for(held.wait(), timeout=10)  # it ended; its sidebar refresh waits
    await user.should_see("second answer")
    fake.enqueue("third answer")
    await services.chat.regenerate(owner.id, reply.id)
    release.set()
    await user.should_see("third answer", retries=100)


async def test_a_refused_reasoning_effort_can_be_turned_off_from_the_reply(
    fake: FakeOpenAI, user: User
) -> None:
    """A server that refuses `reasoning_effort` gets one clear message, and one click stops
    sending it and asks again."""
    await set_up_owner(user)
    fake.enqueue(Reply("first"))
    await send(user, "hello")
    await user.should_see("first", retries=50)
    topic_id = await shown_topic(user)
    services = ui_state.services
    assert services is not None
    owner = await services.store.get_user_by_email(OWNER[0])
    assert owner is not None
    await services.topics.update_topic_settings(owner.id, topic_id, reasoning_effort="high")
    fake.reject_reasoning_effort = True
    await send(user, "think hard")
    await user.should_see("does not accept a reasoning effort", retries=50)
    fake.reject_reasoning_effort = False
    fake.enqueue(Reply("answered without it"))
    user.find(marker="effort-off").click()
    await user.should_see("answered without it", retries=50)
    assert "reasoning_effort" not in fake.chats[-1].json
    topic = await services.store.get_topic(owner.id, topic_id)
    assert "reasoning_effort" not in topic.settings
