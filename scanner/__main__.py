"""`python -m scanner` is `trustscan`."""

from scanner.cli import exit_fast, main

exit_fast(main())
