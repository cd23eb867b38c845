"""Seeding a store fast (tests and benchmarks): whole topics with their messages at once."""

from __future__ import annotations

from collections.abc import Callable

from services.models import Message, Role, Topic, User
from services.store import Store


async def owner(store: Store, email: str, password_hash: str = "x") -> User:
    """The user to seed for: an existing one with that email, or a new owner."""
    found = await store.get_user_by_email(email)
    return found or await store.create_user(
        User(email=email, password_hash=password_hash, is_owner=True)
    )


def conversation(
    user_id: str, title: str, count: int, text: Callable[[int], str]
) -> tuple[Topic, list[Message]]:
    """A topic of `count` messages, questions and replies taking turns, each answering the last."""
    topic = Topic(user_id=user_id, title=title)
    messages: list[Message] = []
    for index in range(count):
        role = Role.USER if index % 2 == 0 else Role.ASSISTANT
        parent = messages[-1].id if messages else None
        messages.append(Message(topic.id, user_id, role, text(index), parent_id=parent))
    topic.message_count = len(messages)
    topic.active_leaf_id = messages[-1].id if messages else None
    return topic, messages


async def seed(store: Store, topics: list[tuple[Topic, list[Message]]], batch: int = 50) -> None:
    for start in range(0, len(topics), batch):
        await store.import_topics(topics[start : start + batch])
