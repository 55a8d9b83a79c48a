"""`python -m imageprivacy ...` is the `imageprivacy` command (and what `torchrun -m imageprivacy` starts)."""
from imageprivacy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
