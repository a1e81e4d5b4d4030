import sys

from neurotwin.cli import main

sys.exit(main())
