"""Plain async services: models, store, auth, model client, chat, markdown. No UI imports."""
