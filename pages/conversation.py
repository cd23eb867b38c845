"""The message list of one topic: its turns drawn (pages/turns.py), a reply followed as it
grows, older turns loaded as the reader scrolls up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui

from pages.feedback import show_error, toast
from pages.i18n import _, tr
from pages.isolated import Isolated
from pages.live_reply import LiveReply
from pages.thinking import ThinkingBlock
from pages.tool_calls import split_at_calls
from pages.turns import THOUGHT, TurnDrawing, part_key
from services.chat import Finished, Generation, TextDelta, Turn
from services.context import Services
from services.errors import ChatAppError
from services.generation import ReasoningDelta, ToolCallUpdate
from services.models import Role

# A long topic opens with its most recent messages; older ones load, a page at a time, when
# the "Load older messages" button at the top scrolls into view (pages/static/app.js).
WINDOW = 10
OLDER_PAGE = 20
FOLLOWER = "follow reply"  # the name of the task that shows a reply as it grows


class _Log(ui.column):
    """The message list, which tells its view when it leaves the page."""

    def __init__(self, on_delete: Callable[[], None]) -> None:
        super().__init__()
        self._on_delete = on_delete

    def _handle_delete(self) -> None:  # NiceGUI's hook for an element's clean-up
        self._on_delete()
        super()._handle_delete()


class ConversationView(TurnDrawing):
    """Draws a topic's active branch and keeps the reply being written live."""

    def __init__(
        self,
        services: Services,
        user_id: str,
        topic_id: str,
        *,
        on_finished: Callable[[], Awaitable[None]],
        owner: bool = False,
    ) -> None:
        self.services = services
        self.user_id = user_id
        self.topic_id = topic_id
        self.owner = owner
        self.on_finished = on_finished
        self._generating = False
        # Told at once when a reply starts or ends here: the composer swaps Send and Stop.
        self.on_generating: Callable[[bool], None] | None = None
        # Isolated: a new turn re-renders the messages, not the model picker and all around.
        with Isolated().classes("w-full max-w-3xl mx-auto"):
            self.container = _Log(self.close).classes("w-full gap-4 px-3 pb-6 messages")
        self.container.props('role="log" aria-live="polite"')
        self.container.props["aria-label"] = _("Conversation")
        self._follower: asyncio.Task[None] | None = None
        self._followed: Generation | None = None  # the reply the follower follows
        self.turns: list[Turn] = []  # those drawn: the latest of the active branch
        self.shown = WINDOW  # how many of the latest turns to draw
        self.older: ui.button | None = None
        self._loading_older = False
        self._refreshes = 0  # redraws started: only the latest one draws
        self.client = ui.context.client
        # Watching ends with the log's elements: when the page closes, or when the chat screen
        # swaps this topic out for another (pages/chat_page.py).
        self._unwatch = services.chat.watch(topic_id, self._started_elsewhere)

    @property
    def generating(self) -> bool:
        """Whether a reply in this topic is being written (and followed here)."""
        return self._generating

    @generating.setter
    def generating(self, value: bool) -> None:
        if value != self._generating:
            self._generating = value
            if self.on_generating is not None:
                self.on_generating(value)

    def close(self) -> None:
        """Stop watching the topic and following its reply (the generation itself goes on)."""
        self._unwatch()
        self._stop_following()

    def _started_elsewhere(self, generation: Generation) -> None:
        """A reply started in this topic (from this tab, another, or the API): show and follow
        it. A question just asked under the last turn drawn is drawn at once with its reply,
        without reading the topic again: the reply's first words show that much sooner."""
        if self.container.is_deleted:
            return
        follower = self._follower
        if follower is not None and not follower.done():
            if self._followed is not None and self._followed is not generation:
                # The reply followed has ended, and its redraw and the sidebar's are still on
                # their way: show this one after them, not never.
                follower.add_done_callback(lambda _: self._started_elsewhere(generation))
            return
        question = generation.question
        if question is not None and self.turns and question.parent_id == self.turns[-1].message.id:
            asked = Turn(question, [question.id], generation.question_files)
            reply = Turn(generation.message, [generation.message.id])
            self._replace_end([], [asked, reply], generation, {})
            self.follow(generation)
        else:
            background_tasks.create(self._show_once_stored(generation), name="show reply")

    async def _show_once_stored(self, generation: Generation) -> None:
        """Read the topic again once the reply's rows are written (its first words can come
        before), unless they never are."""
        await generation.stored.wait()
        if not generation.abandoned:
            await self.refresh()

    async def refresh(self) -> None:
        if self.container.is_deleted:  # swapped out while a redraw was on its way
            return
        self._refreshes += 1
        this = self._refreshes
        # The reply running before the topic is read: if it ends meanwhile, what is read may
        # be from before its end, so it is still drawn live and followed to its end (a
        # finished reply's events end at once), whose redraw reads the topic again.
        generation = self.services.chat.generation(self.topic_id)
        # Only the end of the branch is read: what is drawn, and room for what was added.
        turns = await self.services.chat.conversation(
            self.user_id, self.topic_id, limit=max(self.shown, len(self.turns)) + WINDOW
        )
        html = await self._html(turns)
        if self.container.is_deleted or this != self._refreshes:
            return  # a later redraw read the topic after this one: it draws, not this
        if (change := self._tail_change(turns, generation)) is not None:
            self._replace_end(*change, generation, html)  # only from the first turn that changed
        else:
            self.turns = turns[-self.shown :]
            self._redraw(generation, html)
        self.generating = generation is not None
        if generation is not None:
            self.follow(generation)

    def _tail_change(
        self, turns: list[Turn], generation: Generation | None
    ) -> tuple[list[ui.element], list[Turn]] | None:
        """How to bring what is drawn up to `turns` (the end of the branch, read again) by
        redrawing only its end: the page's elements of the last turns drawn to take away, and
        which turns to draw after the rest. A reply that finished, a new question and reply, another
        version chosen below the top: each changes only the end of the conversation. None
        when the oldest turn drawn changed or is gone, or the page does not hold the turns
        to take away as its last elements: then the view is drawn anew."""
        drawn = self.turns
        ids = _ids(turns)
        if not drawn or drawn[0].message.id not in ids:
            return None
        start = ids.index(drawn[0].message.id)
        children = self.container.default_slot.children
        # A reply drawn live that is not being written any more is drawn again, finished,
        # even if it was read finished already (it can end between reading and drawing).
        running = generation.message.id if generation is not None else None
        live = {
            box.props.get("data-message-id")
            for box in children
            if getattr(box, "live", None) is not None
        } - {running}
        kept = 0
        for old, new in zip(drawn, turns[start:], strict=False):
            if _looks(old) != _looks(new) or old.message.id in live:
                break
            kept += 1
        if kept == 0:
            return None
        stale = children[len(children) - (len(drawn) - kept) :]
        if [box.props.get("data-message-id") for box in stale] != _ids(drawn[kept:]):
            return None
        return stale, turns[start + kept :]

    async def _html(self, turns: list[Turn]) -> dict[str, str]:
        """The replies' HTML (and their reasoning's, under THOUGHT + id), by message id:
        rendered in the worker processes (and cached there) before drawing, so drawing itself
        never waits or renders."""
        replies = [turn.message for turn in turns if turn.message.role != Role.USER]
        keys = [reply.id for reply in replies] + [THOUGHT + r.id for r in replies if r.reasoning]
        texts = [reply.content for reply in replies] + [r.reasoning for r in replies if r.reasoning]
        for reply in replies:  # text between tool calls: each part on its own
            for index, (text, _calls) in enumerate(split_at_calls(reply.content, reply.tool_calls)):
                if reply.tool_calls and text.strip():
                    keys.append(part_key(reply.id, index))
                    texts.append(text)
        rendered = await self.services.renderer.render_many(texts)
        return dict(zip(keys, rendered, strict=True))

    def _replace_end(
        self,
        stale: list[ui.element],
        tail: list[Turn],
        generation: Generation | None,
        html: dict[str, str],
    ) -> None:
        """Take away the elements of the last len(stale) turns drawn, then draw `tail`."""
        for box in stale:
            self.container.remove(box)
        self.turns = self.turns[: len(self.turns) - len(stale)] + tail
        self.shown += len(tail) - len(stale)
        with self.container:
            self._draw_turns(tail, generation, html)

    def _redraw(self, generation: Generation | None, html: dict[str, str]) -> None:
        self.container.clear()
        with self.container:
            self.older = ui.button(_("Load older messages"), on_click=self.load_older)
            self.older.props("flat no-caps").classes("self-center messages-older")
            self.older.mark("older-messages").set_visibility(self._more_above)
            if not self.turns:
                ui.label(_("Send a message to start.")).classes("muted self-center mt-16")
            self._draw_turns(self.turns, generation, html)

    def _draw_turns(
        self, turns: list[Turn], generation: Generation | None, html: dict[str, str]
    ) -> None:
        """Draw `turns` in order; the one being written (if any) is drawn live."""
        for turn in turns:
            live = generation is not None and turn.message.id == generation.message.id
            self._draw(turn, live=live, html=html)

    @property
    def _more_above(self) -> bool:
        """Whether the branch goes on above the oldest turn drawn."""
        return bool(self.turns) and self.turns[0].message.parent_id is not None

    async def load_older(self) -> None:
        """Draw the next page of older turns above those shown, without redrawing the rest."""
        if self._loading_older or not self._more_above or self.older is None:
            return
        self._loading_older = True  # the button can be clicked again while the page is read
        oldest = self.turns[0].message.id
        try:
            older = await self.services.chat.conversation(
                self.user_id, self.topic_id, limit=OLDER_PAGE, before=oldest
            )
            html = await self._html(older)
        finally:
            self._loading_older = False
        if not self.turns or self.turns[0].message.id != oldest:
            return  # redrawn meanwhile (another branch chosen): these are not above it now
        self.turns = older + self.turns
        self.shown += len(older)
        with self.container:
            batch = ui.column().classes("w-full gap-4")
            with batch:
                for turn in older:
                    self._draw(turn, live=False, html=html)
        batch.move(target_index=1)  # under the button: the button stays the first child
        self.older.set_visibility(self._more_above)

    def follow(self, generation: Generation) -> None:
        """Show a reply as it grows: text so far first, then each delta (LiveMarkdown throttles)."""
        self._stop_following()
        self.generating = True
        children = self.container.default_slot.children
        box = children[-1] if children else None
        if getattr(box, "live", None) is None:
            return
        self._followed = generation
        self._follower = background_tasks.create(self._pump(generation, box), name=FOLLOWER)

    async def _pump(self, generation: Generation, box: ui.element) -> None:
        live: LiveReply = box.live  # type: ignore[attr-defined]
        thinking: ThinkingBlock | None = None
        folded = False
        # Updates made while the page is still being delivered can reach the browser twice
        # (in the first HTML and again as updates); start once the websocket is up.
        await self.client.connected()
        async for event in generation.events():
            if isinstance(event, ReasoningDelta):
                if thinking is None:
                    since = generation.thinking_since
                    with box.thinking_box:  # type: ignore[attr-defined]
                        thinking = ThinkingBlock.following(
                            self.services.renderer, time.monotonic() - since if since else 0
                        )
                thinking.append(event.text)
            elif isinstance(event, ToolCallUpdate):
                await live.call(event.call)
            elif isinstance(event, TextDelta):
                if thinking is not None and not folded:
                    thinking.fold(generation.thinking_seconds)
                    folded = True
                await live.text(event.text, generation.tool_calls)
            elif isinstance(event, Finished):
                if thinking is not None:
                    await thinking.finish(event.message.reasoning_seconds)
                await live.finish()
                if event.unsaved:
                    with self.client:
                        toast(
                            _(
                                "The reply could not be saved yet: {reason} chatapp keeps it "
                                "and tries again until the database takes it."
                            ).format(reason=tr(event.unsaved)),
                            "warning",
                        )
        self.generating = False
        try:
            await self.refresh()
            await self.on_finished()
        except ChatAppError as exc:  # e.g. the database went away: the reply stays shown
            with self.client:  # a background task: say which page the toast belongs to
                show_error(exc)

    def _stop_following(self) -> None:
        if self._follower is not None and not self._follower.done():
            self._follower.cancel()
        self._follower = None


def _ids(turns: list[Turn]) -> list[str]:
    return [turn.message.id for turn in turns]


def _looks(turn: Turn) -> tuple[object, ...]:
    """What decides how a turn is drawn: the same tuple draws the same."""
    message = turn.message
    return (
        message.id,
        message.status,
        message.content,
        message.reasoning,
        message.error,
        message.usage,
        message.rating,
        tuple(turn.sibling_ids),
        tuple(a.id for a in turn.attachments),
        tuple((c.id, c.status, c.result, c.offset) for c in message.tool_calls),
    )
