"""`python -m pylinuxabi` is the `pylinuxabi` command."""
from pylinuxabi.cli import main

raise SystemExit(main())
