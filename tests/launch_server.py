"""chatapp with /launch enabled for a token read from stdin, and no window: for tests.

`python -m tests.launch_server --port N` with the token on stdin; everything else is the
real start-up path of `chatapp --native` except that no window opens.
"""

from __future__ import annotations

import argparse
import sys

from chatapp.app import run
from chatapp.logs import setup_logging
from chatapp.settings import load_settings

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    token = sys.stdin.readline().strip()
    settings = load_settings(port=parser.parse_args().port, host="127.0.0.1")
    setup_logging(settings.log_level, settings.log_file)
    run(settings, launch_token=token)
