from __future__ import annotations

from escape_guard.cli import main

raise SystemExit(main())
