"""What users do with the messages of a topic: ask, edit, regenerate, continue, stop, branch.

The replies themselves run in `services/replies.py`, their prompts come from
`services/prompt.py`; topics as a whole (create, rename, delete, list) are
`services/topics.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from services.attachments import Upload, check_all
from services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    Throttled,
    TooLarge,
)
from services.generation import Event, Finished, Generation, TextDelta
from services.i18n import msg
from services.llm import LLM
from services.models import (
    Attachment,
    Message,
    MessageStatus,
    Rating,
    Role,
    Topic,
)
from services.options import Options
from services.prompt import build_prompt, continuation
from services.replies import Replies
from services.store import Store
from services.telemetry import Telemetry
from services.titles import NEW_TITLE, first_words
from services.watchers import Watchers

if TYPE_CHECKING:
    from services.tools.runner import ToolRunner

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Turn:
    """A message on the active path, with its siblings' ids (for the ‹ 2/3 › switcher)."""

    message: Message
    sibling_ids: list[str]
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def index(self) -> int:
        return self.sibling_ids.index(self.message.id)


class ChatService:
    """Everything a user does with messages and replies, for pages and the API alike."""

    def __init__(
        self,
        store: Store,
        llm: LLM,
        options: Options,
        *,
        save_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
        tools: ToolRunner | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.clock = clock
        self._background: set[asyncio.Task[Any]] = set()  # cancelled at shutdown
        self.replies = Replies(
            store,
            llm,
            options,
            changed=self.changed,
            spawn=self.spawn,
            save_interval=save_interval,
            clock=clock,
            telemetry=telemetry,
            tools=tools,
        )
        self._started: dict[str, deque[float]] = defaultdict(deque)
        self._reply_starts = Watchers[Generation]()  # per topic: a reply started
        self._topic_lists = Watchers[str]()  # per user: a topic changed (its id)

    @property
    def generations(self) -> dict[str, Generation]:
        """The replies being written, by topic."""
        return self.replies.generations

    # ----- reading a conversation -------------------------------------------------------------

    async def conversation(
        self, user_id: str, topic_id: str, *, limit: int | None = None, before: str | None = None
    ) -> list[Turn]:
        """The active branch from the first message to the topic's active leaf.

        With `limit`, only its last `limit` turns, read without the rest of the topic (a long
        topic opens at its end); with `before` (a message id on the branch), the turns just
        above that message instead. A first turn with a `parent_id` means more lie above it.
        """
        topic = await self.store.get_topic(user_id, topic_id)
        if before is not None:
            below = await self.store.get_message(user_id, before)
            if below.topic_id != topic_id:
                raise NotFound(msg("Message not found."))
            above = below.parent_id
            path = await self.store.path_to(user_id, above, limit=limit) if above else []
        else:
            path = await self._active_path(user_id, topic, limit)
        path = self.with_unsaved(path)
        siblings = await self.store.child_ids(user_id, topic_id, {m.parent_id for m in path})
        files = defaultdict(list)
        for attachment in await self.store.list_attachments(user_id, topic_id):
            files[attachment.message_id].append(attachment)
        return [Turn(m, siblings[m.parent_id], files.get(m.id, [])) for m in path]

    async def _active_path(self, user_id: str, topic: Topic, limit: int | None) -> list[Message]:
        if topic.active_leaf_id is not None:
            try:
                return await self.store.path_to(user_id, topic.active_leaf_id, limit=limit)
            except NotFound:  # a leaf that is gone: the newest message's branch, as with none
                pass
        messages = await self.store.list_messages(user_id, topic.id)
        if not messages:
            return []
        return await self.store.path_to(user_id, messages[-1].id, limit=limit)

    def with_unsaved(self, messages: list[Message]) -> list[Message]:
        """`messages` as read from the store, with the text of replies not saved yet."""
        generating = {g.message.id: g for g in self.generations.values()}
        shown = []
        for message in messages:
            if generation := generating.get(message.id):
                calls = [replace(call) for call in generation.tool_calls]
                message = replace(message, content=generation.text, tool_calls=calls)
            shown.append(self.replies.unsaved.get(message.id, message))
        return shown

    async def select_branch(self, user_id: str, message_id: str) -> None:
        """Show the branch through `message_id`, down to its newest leaf."""
        message = await self.store.get_message(user_id, message_id)
        messages = await self.store.list_messages(user_id, message.topic_id)
        newest_child: dict[str, str] = {}
        for m in messages:
            if m.parent_id:
                newest_child[m.parent_id] = m.id
        leaf = message.id
        while leaf in newest_child:
            leaf = newest_child[leaf]
        await self.store.set_active_leaf(user_id, message.topic_id, leaf)
        self.changed(user_id, message.topic_id)  # its count is that branch's: lists show it

    def generation(self, topic_id: str) -> Generation | None:
        """The reply being written in a topic, once its row is written (a page reading the
        topic finds it there)."""
        generation = self.generations.get(topic_id)
        return generation if generation is not None and generation.stored.is_set() else None

    def watch(self, topic_id: str, notify: Callable[[Generation], None]) -> Callable[[], None]:
        """Call `notify` whenever a reply starts in the topic; returns the way to stop watching."""
        return self._reply_starts.add(topic_id, notify)

    def watch_topics(self, user_id: str, notify: Callable[[str], None]) -> Callable[[], None]:
        """Call `notify(topic_id)` whenever one of the user's topics is created, renamed, gets a
        message or a title, or is deleted; returns the way to stop watching."""
        return self._topic_lists.add(user_id, notify)

    async def rate(self, user_id: str, message_id: str, rating: Rating | None) -> Message:
        """Keep a user's thumbs up or down on a reply (None takes it back)."""
        message = await self.store.get_message(user_id, message_id)
        if message.role != Role.ASSISTANT:
            raise InvalidInput(msg("Only replies can be rated."))
        await self.store.rate_message(user_id, message_id, rating)
        message.rating = rating
        return message

    def changed(self, user_id: str, topic_id: str) -> None:
        """Tell the user's topic lists that a topic changed (the topic service and imports too)."""
        self._topic_lists.notify(user_id, topic_id)

    # ----- writing ----------------------------------------------------------------------------

    async def send(
        self,
        user_id: str,
        topic_id: str,
        content: str,
        *,
        parent_id: str | None = None,
        files: list[Upload] | None = None,
    ) -> Generation:
        """Save the user's message (and its files) and start the reply; `parent_id` defaults
        to the active leaf. A file that is refused stops it all before anything is saved."""
        topic = await self.store.get_topic(user_id, topic_id)
        return await self._ask(topic, content, parent_id or topic.active_leaf_id, files or [])

    async def _ask(
        self, topic: Topic, content: str, parent_id: str | None, files: list[Upload]
    ) -> Generation:
        """Ask a question under `parent_id` (None: a new first message) and answer it."""
        user_id, topic_id = topic.user_id, topic.id
        checked = check_all(files)
        content = self._check_content(content, allow_empty=bool(checked))
        self._check_idle(topic_id)
        self._check_rate(user_id)
        question = Message(topic_id, user_id, Role.USER, content, parent_id=parent_id)
        asked = [
            (
                Attachment(
                    user_id,
                    topic_id,
                    question.id,
                    file.name,
                    file.media_type,
                    len(file.data),
                    text=file.text,
                ),
                file.data,
            )
            for file in checked
        ]
        return await self._answer(user_id, topic, question, asked=asked)

    async def _save_question(
        self,
        topic: Topic,
        question: Message,
        asked: list[tuple[Attachment, bytes]],
        reply: Message,
    ) -> None:
        """Write a question just asked, its files and the row of its reply: one transaction
        for both messages when there are no files (they come between)."""
        if asked:
            await self.store.add_message(question)
            for attachment, data in asked:
                await self.store.add_attachment(attachment, data)
            await self.store.add_message(reply)
        else:
            await self.store.add_messages([question, reply])
        if topic.title == NEW_TITLE and not topic.settings.get("title_locked"):
            names = ", ".join(attachment.name for attachment, _ in asked)
            title = first_words(question.content) or first_words(names)
            try:  # the exchange is saved by now: a title that fails takes nothing back
                await self.store.rename_topic(topic.user_id, topic.id, title)
            except StoreUnavailable as exc:
                log.warning("could not title topic %s: %s", topic.id, exc)

    async def edit(self, user_id: str, message_id: str, content: str) -> Generation:
        """Ask an edited question as a sibling of the original, keeping the original branch."""
        original = await self.store.get_message(user_id, message_id)
        if original.role != Role.USER:
            raise InvalidInput(msg("Only your own messages can be edited."))
        topic = await self.store.get_topic(user_id, original.topic_id)
        files = [  # the edited question keeps the original's files
            Upload(attachment.name, await self.store.read_attachment(user_id, attachment.id))
            for attachment in await self.store.list_attachments(user_id, topic.id)
            if attachment.message_id == original.id
        ]
        return await self._ask(topic, content, original.parent_id, files)

    async def regenerate(self, user_id: str, message_id: str) -> Generation:
        """Write a new reply to the question behind `message_id`, as a sibling branch."""
        message = await self.store.get_message(user_id, message_id)
        question = message
        if message.role == Role.ASSISTANT:
            if message.parent_id is None:
                raise InvalidInput(msg("This reply has no question to answer again."))
            question = await self.store.get_message(user_id, message.parent_id)
        topic = await self.store.get_topic(user_id, message.topic_id)
        self._check_idle(topic.id)
        self._check_rate(user_id)
        return await self._answer(user_id, topic, question)

    async def continue_reply(self, user_id: str, message_id: str) -> Generation:
        """Carry on writing a reply that ended early (stopped, interrupted by a restart, or
        failed part-way), in place: the model sees its partial text and is asked to go on."""
        reply = await self.store.get_message(user_id, message_id)
        if reply.role != Role.ASSISTANT or reply.parent_id is None:
            raise InvalidInput(msg("Only a reply can be continued."))
        if reply.status in (MessageStatus.COMPLETE, MessageStatus.STREAMING):
            raise InvalidInput(msg("This reply is not unfinished."))
        if not reply.content.strip():
            raise InvalidInput(
                msg("This reply has no text to continue from: regenerate it instead.")
            )
        topic = await self.store.get_topic(user_id, reply.topic_id)
        self._check_idle(topic.id)
        self._check_rate(user_id)
        question = await self.store.get_message(user_id, reply.parent_id)
        prompt = await build_prompt(self.store, self.options, topic, question)
        prompt += continuation(reply)
        model = reply.model or topic.settings.get("model") or self.options.default_model
        await self.store.update_message(user_id, reply.id, status=MessageStatus.STREAMING, error="")
        generation = Generation(replace(reply, status=MessageStatus.STREAMING, error=None))
        generation.parts.append(reply.content)
        generation.tool_calls = list(reply.tool_calls)  # kept; a continuation adds none before
        if reply.reasoning:  # the thinking before the stop stays; more may follow
            generation.reasoning_parts.append(reply.reasoning)
            generation.thinking_seconds = reply.reasoning_seconds
        generation.stored.set()
        self.replies.start(topic, generation, prompt, model)
        self._show(topic, generation)
        self.changed(topic.user_id, topic.id)
        return generation

    async def stop(self, user_id: str, topic_id: str) -> Message | None:
        """Stop the reply being written in a topic, keeping its text; None when none runs."""
        await self.store.get_topic(user_id, topic_id)
        return await self.stop_reply(topic_id)

    async def stop_reply(self, topic_id: str) -> Message | None:
        """`stop` for a caller that has checked the topic is the user's (deleting it)."""
        generation = self.generations.get(topic_id)
        if generation is None:
            return None
        await self.replies.cancel(generation, MessageStatus.STOPPED)
        return generation.message

    async def close(self) -> None:
        """Shut down: replies running are saved as interrupted, background tasks cancelled."""
        await self.replies.close()
        for task in list(self._background):  # a save's retries try once more when cancelled
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def spawn(self, coro: Any) -> None:
        """Run a background task (a save's retries, a title, a delayed deletion) that shutting
        down cancels."""
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _check_content(self, content: str, *, allow_empty: bool = False) -> str:
        if not allow_empty and (not content or not content.strip()):
            raise InvalidInput(msg("The message is empty."))
        if len(content) > self.options.max_message_chars:
            raise TooLarge(
                f"The message is too long ({len(content):,} characters; "
                f"the limit is {self.options.max_message_chars:,})."
            )
        return content

    def _check_idle(self, topic_id: str) -> None:
        if topic_id in self.generations:
            raise Conflict(msg("A reply is still being written in this topic; stop it first."))

    def _check_rate(self, user_id: str) -> None:
        now, window = self.clock(), self._started[user_id]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.options.replies_per_minute:
            wait = 60 - (now - window[0])
            raise Throttled(
                f"You started {len(window)} replies in the last minute; try again in {wait:.0f} s.",
                retry_after=wait,
            )
        window.append(now)

    async def _answer(
        self,
        user_id: str,
        topic: Topic,
        question: Message,
        *,
        asked: list[tuple[Attachment, bytes]] | None = None,
    ) -> Generation:
        """Start a new reply to `question`. `asked`: the files of a question just asked, which
        is saved here; None: a question asked before (regenerating).

        The model request leaves before anything is written: the rows are written while it
        travels, which takes them off the time to the reply's first words (`make bench`,
        relay). If writing fails, the reply is taken back and the error raised as before.

        Pages showing the topic are told once the rows are written, or with the first words
        if those come first: on a busy machine the database thread can take longer than the
        model (in an instrumented relay run the rows took 4 to 20 ms, the first words came
        about 10 ms after the request), and a page drawing from `question` needs no rows. A
        reply taken back after that is taken off the page again by its `Finished`.
        """
        model = topic.settings.get("model") or self.options.default_model
        prompt = await build_prompt(self.store, self.options, topic, question, asked)
        reply = Message(
            topic.id,
            user_id,
            Role.ASSISTANT,
            "",
            parent_id=question.id,
            status=MessageStatus.STREAMING,
            model=model,
        )
        generation = Generation(reply)
        if asked is not None:
            generation.question = question
            generation.question_files = [attachment for attachment, _ in asked]
        generation.on_first_text = lambda: self._show(topic, generation)
        self.replies.start(topic, generation, prompt, model)
        try:
            if asked is None:
                await self.store.add_message(reply)
            else:
                await self._save_question(topic, question, asked, reply)
        except BaseException:
            generation.on_first_text = None
            await self.replies.abandon(generation)
            raise
        generation.stored.set()
        if generation.on_first_text is not None:  # not shown with its first words
            self._show(topic, generation)
        self.changed(topic.user_id, topic.id)  # topic lists move it up
        return generation

    def _show(self, topic: Topic, generation: Generation) -> None:
        """Tell the tabs showing the topic to follow the reply (a page drawing from
        `generation.question` does so at once, inside notify); once per reply."""
        generation.on_first_text = None
        self._reply_starts.notify(topic.id, generation)


__all__ = ["NEW_TITLE", "ChatService", "Event", "Finished", "Generation", "TextDelta", "Turn"]
