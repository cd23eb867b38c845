"""Reading an import: chatapp's own exports (a topic, or a whole-account archive) and ChatGPT's
`conversations.json`, checked whole (pydantic models of what each may contain) and turned into
topics and messages with new ids made from their original times, parents before children.
Each topic keeps a fingerprint of its source (`IMPORT_KEY` in its settings), so importing the
same file again can skip what it brought before (services/archive.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from services.errors import InvalidInput, TooLarge
from services.i18n import msg
from services.models import (
    Message,
    MessageStatus,
    Rating,
    Role,
    ToolCall,
    Topic,
    id_at,
    utcnow,
)
from services.tools.history import ToolCallIn

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_TOPICS = 5_000
MAX_MESSAGES = 20_000  # per topic
MAX_CONTENT = 1_000_000
ARCHIVE, TOPIC = "chatapp.archive", "chatapp.topic"
IMPORT_KEY = "import_key"  # in an imported topic's settings: the fingerprint of its source


# ----- what an import may contain ---------------------------------------------------------


# Imported times become time-ordered ids (services.models.id_at): they must fall in its range.
EARLIEST, LATEST = datetime(1970, 1, 2, tzinfo=UTC), datetime(2500, 1, 1, tzinfo=UTC)


def in_range(moment: datetime) -> datetime:
    try:
        moment = aware(moment)
    except OverflowError:  # e.g. year 1 with a positive offset
        raise ValueError("the time is out of range") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"the time must fall between {EARLIEST:%Y} and {LATEST:%Y}")
    return moment


Moment = Annotated[datetime, AfterValidator(in_range)]
Epoch = Annotated[float, Field(ge=0, lt=LATEST.timestamp())]


class SettingsIn(BaseModel):
    """A topic's settings; those the chat reads must have their types, others are kept."""

    model_config = ConfigDict(extra="allow")
    model: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=MAX_CONTENT)
    temperature: float | None = Field(default=None, ge=0, le=2)


class MessageIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    parent_id: str | None = Field(default=None, max_length=64)
    role: Role
    content: str = Field(max_length=MAX_CONTENT)
    status: MessageStatus = MessageStatus.COMPLETE
    model: str | None = Field(default=None, max_length=200)
    created_at: Moment
    reasoning: str = Field(default="", max_length=MAX_CONTENT)
    reasoning_seconds: float | None = Field(default=None, ge=0, le=86_400)
    tool_calls: list[ToolCallIn] = Field(default_factory=list, max_length=1_000)
    rating: Rating | None = None


class TopicIn(BaseModel):
    title: str = Field(max_length=500)
    settings: SettingsIn = Field(default_factory=SettingsIn)
    active_leaf_id: str | None = Field(default=None, max_length=64)
    created_at: Moment
    updated_at: datetime | None = None
    pinned: bool = False
    archived: bool = False
    messages: list[MessageIn] = Field(max_length=MAX_MESSAGES)


class ArchiveIn(BaseModel):
    format: Literal["chatapp.archive"]
    version: Literal[1]
    topics: list[TopicIn] = Field(max_length=MAX_TOPICS)


class TopicFileIn(BaseModel):
    format: Literal["chatapp.topic"]
    version: Literal[1]
    topic: TopicIn


class GptAuthor(BaseModel):
    role: str


class GptContent(BaseModel):
    model_config = ConfigDict(extra="allow")
    content_type: str = "text"
    parts: list[Any] = Field(default_factory=list)
    text: str | None = None


class GptMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    author: GptAuthor
    content: GptContent | None = None
    create_time: Epoch | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class GptNode(BaseModel):
    model_config = ConfigDict(extra="allow")
    message: GptMessage | None = None
    parent: str | None = None
    children: list[str] = Field(default_factory=list)


class GptConversation(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str | None = None
    create_time: Epoch | None = None
    update_time: float | None = None
    mapping: dict[str, GptNode]
    current_node: str | None = None

    @field_validator("mapping")
    @classmethod
    def _not_empty(cls, mapping: dict[str, GptNode]) -> dict[str, GptNode]:
        if len(mapping) > MAX_MESSAGES * 2:
            raise ValueError(f"more than {MAX_MESSAGES * 2} nodes")
        return mapping


CONVERSATIONS = TypeAdapter(list[GptConversation])


# ----- reading an import ----------------------------------------------------------------------


def parse_import(user_id: str, data: bytes) -> list[tuple[Topic, list[Message]]]:
    if len(data) > MAX_IMPORT_BYTES:
        raise TooLarge(msg("The file is over {size} MB.", size=MAX_IMPORT_BYTES // 1024 // 1024))
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(msg("The file is not JSON ({reason}).", reason=exc)) from None
    try:
        # Strict, from the JSON text: a number is not a date, nor `true` a version, nor
        # "1" a time (the API's schema says so, and the import keeps to it).
        if isinstance(raw, list):
            if len(raw) > MAX_TOPICS:
                raise InvalidInput(
                    msg("At most {count} conversations per import.", count=MAX_TOPICS)
                )
            conversations = CONVERSATIONS.validate_json(data, strict=True)
            return [from_chatgpt(user_id, c, n) for n, c in enumerate(conversations, 1)]
        if isinstance(raw, dict) and raw.get("format") == ARCHIVE:
            archive = ArchiveIn.model_validate_json(data, strict=True)
            return [from_chatapp(user_id, t, n) for n, t in enumerate(archive.topics, 1)]
        if isinstance(raw, dict) and raw.get("format") == TOPIC:
            topic = TopicFileIn.model_validate_json(data, strict=True).topic
            return [from_chatapp(user_id, topic, 1)]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            msg(
                "The file does not match its format at {where}: {reason}.",
                where=where,
                reason=first["msg"],
            )
        ) from None
    raise InvalidInput(
        msg("This is not a chatapp export (archive or topic) nor ChatGPT's conversations.json.")
    )


def from_chatapp(user_id: str, given: TopicIn, number: int) -> tuple[Topic, list[Message]]:
    name = f"Topic {number} ({given.title[:40]!r})"
    by_id = {m.id: m for m in given.messages}
    if len(by_id) != len(given.messages):
        raise InvalidInput(msg("{name}: two messages share an id.", name=name))
    for m in given.messages:
        if m.parent_id is not None and m.parent_id not in by_id:
            raise InvalidInput(
                msg(
                    "{name}: message {id} answers {parent}, which is missing.",
                    name=name,
                    id=m.id,
                    parent=m.parent_id,
                )
            )
    nodes = [
        (m.id, m.parent_id, m.role, m.content, m.model, m.status, aware(m.created_at))
        for m in given.messages
    ]
    settings, leaf = given.settings.model_dump(exclude_unset=True), given.active_leaf_id
    thoughts = {m.id: (m.reasoning, m.reasoning_seconds) for m in given.messages if m.reasoning}
    calls = {m.id: [c.call() for c in m.tool_calls] for m in given.messages if m.tool_calls}
    ratings = {m.id: m.rating for m in given.messages if m.rating}
    settings.pop(IMPORT_KEY, None)  # an imported topic exported again: this file is its source
    topic, messages = keyed(
        build(
            user_id,
            name,
            given.title,
            settings,
            given.created_at,
            nodes,
            leaf,
            thoughts,
            calls,
            ratings,
        ),
        given,
    )
    topic.pinned, topic.archived = given.pinned, given.archived
    return topic, messages


def from_chatgpt(user_id: str, given: GptConversation, number: int) -> tuple[Topic, list[Message]]:
    title = (given.title or "Imported chat").strip() or "Imported chat"
    name = f"Conversation {number} ({title[:40]!r})"
    for node_id, node in given.mapping.items():
        if node.parent is not None and node.parent not in given.mapping:
            raise InvalidInput(
                msg("{name}: node {id} has a parent that is not there.", name=name, id=node_id)
            )

    def kept(node_id: str) -> bool:
        message = given.mapping[node_id].message
        return (
            message is not None
            and message.author.role in ("user", "assistant")
            and not message.metadata.get("is_visually_hidden_from_conversation")
            and bool(text_of(message))
        )

    def kept_ancestor(node_id: str | None) -> str | None:
        seen = set()
        while node_id is not None and not kept(node_id):
            if node_id in seen:
                raise InvalidInput(msg("{name}: its messages loop back on themselves.", name=name))
            seen.add(node_id)
            node_id = given.mapping[node_id].parent
        return node_id

    start = from_epoch(given.create_time)
    nodes = []
    for node_id, node in given.mapping.items():
        if not kept(node_id):
            continue
        message = node.message
        assert message is not None
        nodes.append(
            (
                node_id,
                kept_ancestor(node.parent),
                Role(message.author.role),
                text_of(message),
                message.metadata.get("model_slug"),
                MessageStatus.COMPLETE,
                from_epoch(message.create_time) if message.create_time else start,
            )
        )
    leaf = kept_ancestor(given.current_node) if given.current_node in given.mapping else None
    return keyed(build(user_id, name, title, {}, start, nodes, leaf), given)


def keyed(imported: tuple[Topic, list[Message]], source: BaseModel) -> tuple[Topic, list[Message]]:
    """The topic, marked with a fingerprint of the record it came from: the same record
    imported again (the same file twice) is recognised, whatever new ids the topic got."""
    record = json.dumps(source.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    imported[0].settings[IMPORT_KEY] = hashlib.sha256(record.encode()).hexdigest()[:32]
    return imported


def text_of(message: GptMessage) -> str:
    content = message.content
    if content is None:
        return ""
    if content.text:
        return content.text
    pieces = []
    for part in content.parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict) and part.get("content_type") == "image_asset_pointer":
            pieces.append("[image omitted]")
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        else:
            pieces.append("[attachment omitted]")
    return "\n".join(pieces).strip()


Node = tuple[str, str | None, Role, str, str | None, MessageStatus, datetime]


def build(
    user_id: str,
    name: str,
    title: str,
    settings: dict[str, Any],
    created_at: datetime,
    nodes: list[Node],
    active_leaf: str | None,
    thoughts: dict[str, tuple[str, float | None]] | None = None,
    calls: dict[str, list[ToolCall]] | None = None,
    ratings: dict[str, Rating] | None = None,
) -> tuple[Topic, list[Message]]:
    """Topic and messages with new time-ordered ids, parents always before their replies;
    `thoughts`: the reasoning (and its seconds) of replies that have some, `calls` their tool
    calls and `ratings` their thumbs, by their old id."""
    children: defaultdict[str | None, list[Node]] = defaultdict(list)
    for node in nodes:
        children[node[1]].append(node)
    ordered: list[Node] = []
    stack = sorted(children[None], key=lambda n: n[6], reverse=True)
    while stack:  # depth first; every node reachable from a root is visited once
        node = stack.pop()
        ordered.append(node)
        stack.extend(sorted(children[node[0]], key=lambda n: n[6], reverse=True))
    if len(ordered) != len(nodes):
        raise InvalidInput(
            msg("{name}: some messages do not lead back to a first message.", name=name)
        )
    created_at = aware(created_at)
    topic_id = id_at(created_at)
    new_ids: dict[str, str] = {}
    messages: list[Message] = []
    last = topic_id
    for old_id, parent, role, content, model, status, moment in _parents_first(ordered):
        new_id = id_at(moment, after=last)
        last = new_ids[old_id] = new_id
        if status == MessageStatus.STREAMING:
            status = MessageStatus.INTERRUPTED
        messages.append(
            Message(
                topic_id,
                user_id,
                role,
                content,
                parent_id=new_ids[parent] if parent else None,
                id=new_id,
                status=status,
                model=model,
                created_at=moment,
                updated_at=moment,
                reasoning=(thoughts or {}).get(old_id, ("", None))[0],
                reasoning_seconds=(thoughts or {}).get(old_id, ("", None))[1],
                tool_calls=(calls or {}).get(old_id, []),
                rating=(ratings or {}).get(old_id) if role == Role.ASSISTANT else None,
            )
        )
    leaf = new_ids.get(active_leaf or "") or (messages[-1].id if messages else None)
    updated = messages[-1].created_at if messages else created_at
    topic = Topic(
        user_id,
        " ".join(title.split())[:200] or "Imported chat",
        id=topic_id,
        settings={**settings, "title_locked": True},
        active_leaf_id=leaf,
        message_count=len(messages),
        created_at=created_at,
        updated_at=updated,
    )
    return topic, messages


def _parents_first(ordered: list[Node]) -> list[Node]:
    """By time, but never a reply before its question (a clock may have gone backwards)."""
    placed: set[str] = set()
    waiting: defaultdict[str, list[Node]] = defaultdict(list)
    result: list[Node] = []

    def place(node: Node) -> None:
        result.append(node)
        placed.add(node[0])
        for child in waiting.pop(node[0], []):
            place(child)

    for node in sorted(ordered, key=lambda n: n[6]):
        if node[1] is None or node[1] in placed:
            place(node)
        else:
            waiting[node[1]].append(node)
    return result


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_epoch(seconds: float | None) -> datetime:
    return datetime.fromtimestamp(seconds, UTC) if seconds else utcnow()
