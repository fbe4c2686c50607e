"""`python -m service.healthcheck`: exit 0 when this container's service answers /health/ready with 200."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    """Probes 127.0.0.1:$FORECAST_PORT/health/ready for the image's HEALTHCHECK (no curl there)."""
    port = os.environ.get("FORECAST_PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"not ready: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
