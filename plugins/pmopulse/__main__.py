"""`python -m pmopulse`: the `pmopulse` command."""

from __future__ import annotations

import sys

from pmopulse.cli import main

sys.exit(main())
