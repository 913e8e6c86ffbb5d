"""Entry point of tests/sandbox/aws-sandbox (run through that wrapper, which
finds a Python that has moto)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awssandbox.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
