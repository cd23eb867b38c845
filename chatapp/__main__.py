"""`python -m chatapp` runs the `chatapp` command."""

import sys

from chatapp.cli import main

sys.exit(main())
