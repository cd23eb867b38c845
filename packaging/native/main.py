"""Entry point of the desktop bundle (`make bundle`): chatapp in its own window."""

import multiprocessing
import sys

from chatapp.cli import main

if __name__ == "__main__":
    # Native mode runs the window in a child process; a frozen program must let that child
    # start as the window rather than as another copy of the whole app.
    multiprocessing.freeze_support()
    # The markdown workers (services/render_pool.py) are this same program, asked to be one.
    if sys.argv[1:2] == ["--render-worker"]:
        from services import render_worker

        sys.exit(render_worker.main(sys.argv[2:]))
    # Opened with no arguments (a double-click): the desktop window. With arguments it is the
    # `chatapp` command, so the same bundle also serves (`--port 9000`) and manages users.
    sys.exit(main(sys.argv[1:] or ["--native"]))
