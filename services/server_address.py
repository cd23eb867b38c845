"""The model server's address in error sentences: the owner reads it, everyone else does not.

services/llm.py names the server (`{host}`, host and port) when it fails, which is what the
operator needs to fix it and nobody else's business. Each such sentence has a twin without the
address here; `shown_error` gives a reader the one meant for them, as a `Msg`, so a page shows
it translated even when it was read back from the database as plain English.
"""

from __future__ import annotations

from services.i18n import N_, Msg, pattern

# Every sentence of services/llm.py with a {host}, and the same without it
# (tests/test_llm.py checks none is missing).
WITHOUT_HOST = {
    N_("The connection to the model server at {host} ended mid-reply."): N_(
        "The connection to the model server ended mid-reply."
    ),
    N_(
        "The model server at {host} does not accept a reasoning effort setting. Turn it off "
        "in this chat's settings."
    ): N_(
        "The model server does not accept a reasoning effort setting. Turn it off in this "
        "chat's settings."
    ),
    N_(
        "The model {model} at {host} cannot use tools. Turn tools off in this chat, or pick "
        "a model that supports them."
    ): N_(
        "The model {model} cannot use tools. Turn tools off in this chat, or pick a model "
        "that supports them."
    ),
    N_("The model server at {host} refused the API key: check OPENAI_API_KEY."): N_(
        "The model server refused the API key."
    ),
    N_("The model server at {host} is rate limiting requests.{when}"): N_(
        "The model server is rate limiting requests.{when}"
    ),
    N_("The model server at {host} timed out (no data within the timeout)."): N_(
        "The model server timed out (no data within the timeout)."
    ),
    N_("Cannot reach the model server at {host}, or it ended the reply early."): N_(
        "Cannot reach the model server, or it ended the reply early."
    ),
    N_("The model server at {host} is unavailable (HTTP {status})."): N_(
        "The model server is unavailable (HTTP {status})."
    ),
    N_("The model server at {host} sent a reply chatapp could not read."): N_(
        "The model server sent a reply chatapp could not read."
    ),
}


def _recognised(text: str) -> tuple[str, dict[str, str]] | None:
    """The template of ours that `text` was made from, with its values, if it was."""
    if isinstance(text, Msg):
        if text.template in WITHOUT_HOST:
            return text.template, {k: str(v) for k, v in text.params.items()}
        return None
    if " at " not in text:  # every template names the host after " at ": a quick no
        return None
    for template in WITHOUT_HOST:
        if match := pattern(template).fullmatch(text):
            return template, match.groupdict()
    return None


def shown_error(text: str, *, owner: bool) -> str:
    """The error a reader sees: with the server's address for the owner, without it for the
    others; a sentence that names no address as it is."""
    found = _recognised(text)
    if found is None:
        return text
    template, params = found
    if owner:
        return Msg(template, **params)
    params.pop("host", None)
    return Msg(WITHOUT_HOST[template], **params)
