"""`python -m aiops.cli` runs the command line, like `python -m aiops`."""

import sys

from aiops.cli.app import main

sys.exit(main())
