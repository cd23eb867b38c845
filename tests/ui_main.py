"""The app as NiceGUI's `user` fixture runs it: settings from the test's environment."""

from nicegui import ui

from chatapp.app import create_app
from chatapp.settings import load_settings
from tests import ui_state

settings = load_settings()
ui_state.services = create_app(settings)
ui.run(storage_secret=settings.storage_secret.get_secret_value(), title="chatapp", language="en-US")
