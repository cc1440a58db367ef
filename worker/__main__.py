"""`python -m worker`: the product's background worker (see worker/supervisor.py)."""

import sys

from worker.supervisor import main

sys.exit(main())
