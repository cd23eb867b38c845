"""chatapp: a self-hostable ChatGPT-style chat site in pure Python."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chatapp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
