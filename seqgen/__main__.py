import sys

from .cli import main

sys.exit(main(entry_point=True))
