import sys

from homl_rl.cli import main

sys.exit(main())
