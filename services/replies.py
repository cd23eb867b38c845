"""Replies being written, each a task of its own from the model's stream to its last save.

The last save is retried until the database takes it; then come the usage and the title.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from services.errors import ChatAppError, NotFound, StoreUnavailable
from services.generation import Finished, Generation, ReasoningDelta, TextDelta
from services.llm import LLM, CallRequest, Done, Reasoning, ToolCalls
from services.models import Message, MessageStatus, Topic, Usage, UsageRecord
from services.options import Options
from services.prompt import Prompt
from services.store import Store
from services.telemetry import NoTelemetry, Telemetry
from services.titles import auto_title
from services.tools.runner import cancel_unfinished

if TYPE_CHECKING:
    from services.tools.runner import ToolRunner

log = logging.getLogger(__name__)

SAVE_RETRY_CAP = 10.0  # seconds: the longest wait between tries to save a finished reply


class Replies:
    """The replies running, one per topic at most, and those that ended while the database
    could not be written (shown from here until a retry saves them)."""

    def __init__(
        self,
        store: Store,
        llm: LLM,
        options: Options,
        *,
        changed: Callable[[str, str], None],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        save_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
        tools: ToolRunner | None = None,
    ) -> None:
        self.store = store
        self.llm = llm
        self.options = options
        self.tools = tools  # None: no tools (a topic's choice of them is ignored)
        self.changed = changed  # (user id, topic id): the topic's list entry changed
        # Runs a background task (a save's retries, a title) that shutting down cancels.
        self.spawn = spawn
        self.save_interval = save_interval
        self.clock = clock
        self.telemetry: Telemetry = telemetry or NoTelemetry()
        self.generations: dict[str, Generation] = {}  # per topic
        self.unsaved: dict[str, Message] = {}  # per message

    async def close(self) -> None:
        """Shut down: replies running are saved as interrupted (then cancelling the spawned
        tasks tries unsaved ones once more)."""
        for generation in list(self.generations.values()):
            await self.cancel(generation, MessageStatus.INTERRUPTED)

    def start(self, topic: Topic, generation: Generation, prompt: Prompt, model: str) -> None:
        """Run the reply: its task sends the model request at the caller's next await."""
        self.generations[topic.id] = generation
        generation.task = asyncio.create_task(
            self._run(generation, prompt, model, topic.settings),
            name=f"generation-{generation.message.id}",
        )

    async def abandon(self, generation: Generation) -> None:
        """Take back a reply whose rows could not be written: stop its model request; there
        is nothing to save."""
        generation.abandoned = True
        generation.stored.set()
        self.generations.pop(generation.topic_id, None)
        if generation.task is not None:
            generation.task.cancel()
            await asyncio.gather(generation.task, return_exceptions=True)
        generation._end(Finished(generation.message))

    async def _run(
        self, generation: Generation, prompt: Prompt, model: str, settings: dict[str, Any]
    ) -> None:
        message = generation.message
        status, error = MessageStatus.COMPLETE, None
        options: dict[str, Any] = {"temperature": settings.get("temperature")}
        if effort := settings.get("reasoning_effort"):  # not sent unless chosen
            options["reasoning_effort"] = effort
        started = self.clock()
        state = _Round(started=started, last_save=started)
        try:
            toolset = await self.tools.toolset(message.user_id, settings) if self.tools else None
            if toolset is not None:
                options["tools"] = toolset.specs
            for number in itertools.count():
                calls = await self._stream(generation, prompt, model, options, state)
                if not calls or toolset is None or self.tools is None:
                    break
                if number >= self.options.tool_max_rounds:
                    status, state.error_kind = MessageStatus.ERROR, "ToolRounds"
                    error = (
                        f"The model kept calling tools: stopped after {number} rounds. "
                        "Continue to let it go on."
                    )
                    break
                prompt = [*prompt, *await self.tools.run_round(generation, calls, toolset, number)]
            if not generation.text and status == MessageStatus.COMPLETE:
                status, error = (
                    MessageStatus.ERROR,
                    (
                        "The model thought but sent no answer."
                        if generation.reasoning
                        else "The model sent an empty reply."
                    ),
                )
                state.error_kind = "EmptyReply"
        except asyncio.CancelledError:
            status = generation.stop_status
        except ChatAppError as exc:  # provider errors, and a store that failed mid-reply
            status, error, state.error_kind = MessageStatus.ERROR, exc.message, type(exc).__name__
        except Exception:
            log.exception("generation %s failed", message.id)
            status, error = MessageStatus.ERROR, "Something went wrong while writing the reply."
            state.error_kind = "InternalError"
        self.telemetry.reply_finished(
            model, status.value, state.usage, state.error_kind, self.clock() - started
        )
        _stop_thinking(generation, self.clock())  # stopped, or failed, while still thinking
        cancel_unfinished(generation)
        generation.message = replace(
            message,
            content=generation.text,
            status=status,
            usage=state.usage,
            error=error,
            reasoning=generation.reasoning,
            reasoning_seconds=generation.thinking_seconds,
            tool_calls=list(generation.tool_calls),
        )
        generation.finishing = True
        await asyncio.shield(self._finish(generation))

    async def _stream(
        self,
        generation: Generation,
        prompt: Prompt,
        model: str,
        options: dict[str, Any],
        state: _Round,
    ) -> tuple[CallRequest, ...]:
        """One model request, streamed into the reply; the tools it asked for, if any."""
        calls: tuple[CallRequest, ...] = ()
        stream = self.llm.stream(prompt, model=model, **options)
        try:
            async for event in stream:
                if isinstance(event, Done):
                    state.usage = _add(state.usage, event.usage)
                    continue
                if isinstance(event, ToolCalls):
                    calls = event.calls
                    continue
                if not event.text:
                    continue
                first = not generation.reasoning_parts and not generation.parts
                if isinstance(event, Reasoning):
                    if generation.thinking_since is None:
                        generation.thinking_since = self.clock()
                    generation.reasoning_parts.append(event.text)
                    generation._publish(ReasoningDelta(event.text))
                else:
                    if not generation.parts:
                        self.telemetry.first_token(model, self.clock() - state.started)
                        _stop_thinking(generation, self.clock())
                    text = event.text
                    if state.after_calls and generation.text and not generation.text[-1].isspace():
                        text = "\n\n" + text  # the answer after a round of calls: a new paragraph
                    state.after_calls = False
                    generation.parts.append(text)
                    generation._publish(TextDelta(text))
                if first and (hook := generation.on_first_text) is not None:
                    hook()  # the first words, thinking or answer: a page can show the turn
                if (
                    self.clock() - state.last_save >= self.save_interval
                    and generation.stored.is_set()
                ):
                    state.last_save = self.clock()
                    await self._save_progress(generation)
        finally:
            # Closing the stream closes the provider connection, so a local model stops too.
            await asyncio.shield(_aclose(stream))
        state.after_calls = bool(calls)
        return calls

    async def _save_progress(self, generation: Generation) -> None:
        try:
            await self.store.update_message(
                generation.message.user_id,
                generation.message.id,
                content=generation.text,
                reasoning=generation.reasoning,
            )
        except StoreUnavailable as exc:  # keep streaming; the next save or the last one catches up
            log.warning("could not save reply %s yet: %s", generation.message.id, exc)

    async def _finish(self, generation: Generation) -> None:
        await generation.stored.wait()  # a reply that ended before its row was written
        if generation.abandoned:
            return
        message = generation.message
        problem = await self._save_final(message)
        if problem:  # keep it shown and keep trying; the topic is free for the next message
            self.unsaved[message.id] = message
            self.spawn(self._keep_saving(message))
        self.generations.pop(message.topic_id, None)
        generation._end(Finished(message, unsaved=problem))
        self.changed(message.user_id, message.topic_id)
        if message.usage and message.usage.total_tokens and not problem:
            await self._record_usage(message)
        if message.status == MessageStatus.COMPLETE and self.options.auto_title and not problem:
            self.spawn(self._title(message))

    async def _save_final(self, message: Message) -> str:
        """Save a reply that ended; "" when saved (or its topic is gone), else why not."""
        try:
            await self.store.update_message(
                message.user_id,
                message.id,
                content=message.content,
                status=message.status,
                usage=message.usage,
                error=message.error,
                reasoning=message.reasoning,
                reasoning_seconds=message.reasoning_seconds,
                tool_calls=message.tool_calls,
            )
        except NotFound:  # the topic was deleted meanwhile
            pass
        except StoreUnavailable as exc:
            log.warning("saving reply %s failed (%s); retrying", message.id, exc)
            return exc.message
        self.unsaved.pop(message.id, None)
        return ""

    async def _keep_saving(self, message: Message) -> None:
        """Retry saving a finished reply until the database takes it (at shutdown: once more)."""
        delay = 0.5
        try:
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, SAVE_RETRY_CAP)
                if not await self._save_final(message):
                    break
        except asyncio.CancelledError:
            if await self._save_final(message):
                log.error("reply %s could not be saved before shutdown", message.id)
            raise
        log.info("reply %s saved after the database came back", message.id)
        self.changed(message.user_id, message.topic_id)
        if message.usage and message.usage.total_tokens:
            await self._record_usage(message)

    async def _record_usage(self, reply: Message) -> None:
        assert reply.usage is not None
        record = UsageRecord(
            reply.user_id,
            reply.model or self.options.default_model,
            reply.usage.prompt_tokens,
            reply.usage.completion_tokens,
        )
        try:
            await self.store.record_usage(record)
        except StoreUnavailable as exc:  # the reply itself is saved; only the tally misses it
            log.warning("could not record usage of reply %s: %s", reply.id, exc)

    async def _title(self, reply: Message) -> None:
        if await auto_title(self.store, self.llm, self.options, reply):
            self.changed(reply.user_id, reply.topic_id)

    async def cancel(self, generation: Generation, status: MessageStatus) -> None:
        generation.stop_status = status
        task = generation.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if not generation.finishing:  # cancelled before its first step: _run never ran
            generation.finishing = True
            cancel_unfinished(generation)
            generation.message = replace(
                generation.message,
                content=generation.text,
                status=status,
                tool_calls=list(generation.tool_calls),
            )
            await self._finish(generation)
        await generation.finished.wait()


async def _aclose(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


@dataclass(slots=True)
class _Round:
    """What a reply's rounds share: when it began, its last progress save, usage so far."""

    started: float
    last_save: float
    usage: Usage | None = None
    error_kind: str | None = None
    after_calls: bool = False


def _add(total: Usage | None, more: Usage | None) -> Usage | None:
    """Usage summed over a reply's requests (each round of tool calls is one)."""
    if total is None or more is None:
        return more or total
    return Usage(
        total.prompt_tokens + more.prompt_tokens,
        total.completion_tokens + more.completion_tokens,
        total.total_tokens + more.total_tokens,
        total.reasoning_tokens + more.reasoning_tokens,
    )


def _stop_thinking(generation: Generation, now: float) -> None:
    """The thinking ended (the answer began, or the reply ended): note for how long."""
    if generation.thinking_since is not None and generation.thinking_seconds is None:
        generation.thinking_seconds = round(now - generation.thinking_since, 1)
