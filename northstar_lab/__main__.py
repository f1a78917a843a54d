"""`python -m northstar_lab …` — see cli.py."""

import sys

from .cli import main
from .cli.memory import reuse_freed_memory

reuse_freed_memory()
sys.exit(main())
