"""Entry point of the desktop bundle (`make bundle`): chatapp in its own window."""

import multiprocessing
import sys

from chatapp.cli import main

if __name__ == "__main__":
    # Native mode runs the window in a child process; a frozen program must let that child
    # start as the window rather than as another copy of the whole app.
    multiprocessing.freeze_support()
    sys.exit(main(["--native", *sys.argv[1:]]))
