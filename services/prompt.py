"""What a reply's model request says: system prompt, then the branch as far as it fits.

The branch is read no further than the history budget holds, files and all.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from services.attachments import content_size, model_content
from services.errors import NotFound
from services.i18n import msg
from services.models import Attachment, Message, Role, Topic
from services.options import Options
from services.store import Store
from services.tools.history import size as calls_size
from services.tools.history import with_calls

CONTINUE_PROMPT = (
    "Your previous reply was cut off. Continue it exactly where it stopped, without repeating "
    "anything and without any preamble."
)

Prompt = list[dict[str, Any]]


async def build_prompt(
    store: Store,
    options: Options,
    topic: Topic,
    question: Message,
    asked: list[tuple[Attachment, bytes]] | None = None,
) -> Prompt:
    """The system prompt plus as much recent history as fits the budget, down to `question`.
    `asked`: the question is not saved yet; these are its files (and their bytes)."""
    user_id = topic.user_id
    leaf = question.id if asked is None else question.parent_id
    attachments, path = await asyncio.gather(  # both at once: the reply waits for them
        store.list_attachments(user_id, topic.id),
        branch_to(store, options, topic, leaf) if leaf else _nothing(),
    )
    files: defaultdict[str, list[Attachment]] = defaultdict(list)
    for attachment in attachments:
        files[attachment.message_id].append(attachment)
    known: dict[str, bytes] = {}
    if asked is not None:  # not saved yet: it and its files come from memory
        path = [*path, question]
        files[question.id] = [attachment for attachment, _ in asked]
        known = {attachment.id: data for attachment, data in asked}

    async def image(attachment: Attachment) -> bytes:
        if attachment.id in known:
            return known[attachment.id]
        return await store.read_attachment(user_id, attachment.id)

    budget = options.history_budget_chars
    kept: Prompt = []
    for message in reversed(path):
        if message.role == Role.SYSTEM or not (
            message.content or message.id in files or message.tool_calls
        ):
            continue
        if message.tool_calls:  # a reply that called tools: its rounds, results and all
            used = len(message.content) + calls_size(message)
            if kept and used > budget:
                break
            budget -= used
            kept += reversed(with_calls(message, options.tool_result_max_bytes))
            continue
        content: str | list[dict[str, Any]] = message.content
        if attached := files.get(message.id):
            content = model_content(
                message.content,
                [(a, await image(a) if a.is_image else None) for a in attached],
            )
        if kept and content_size(content) > budget:
            break
        budget -= content_size(content)
        kept.append({"role": message.role.value, "content": content})
    kept.reverse()
    if system := topic.settings.get("system_prompt"):
        kept.insert(0, {"role": "system", "content": system})
    return kept


async def branch_to(store: Store, options: Options, topic: Topic, leaf: str) -> list[Message]:
    """The branch down to `leaf`, as much of it as the history budget can hold; `leaf` must be
    in the topic: the message a question answers is checked here, before anything is written
    or sent."""
    budget = options.history_budget_chars  # no more of a long branch than fits
    try:
        path = await store.path_to(topic.user_id, leaf, budget=budget)
    except NotFound:
        path = []
    if not path or path[-1].topic_id != topic.id:
        raise NotFound(msg("The message to answer is not in this topic."))
    return path


def continuation(reply: Message) -> Prompt:
    """What follows the prompt when an unfinished reply is carried on: the reply so far, and
    the request to go on from there."""
    return [
        {"role": "assistant", "content": reply.content},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]


async def _nothing() -> list[Message]:
    return []
