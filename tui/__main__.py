"""`python -m tui` is `trustscan`."""

import sys

from tui.cli import main

sys.exit(main())
