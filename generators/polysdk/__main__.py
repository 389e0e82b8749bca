import sys

from polysdk.cli import main

sys.exit(main())
