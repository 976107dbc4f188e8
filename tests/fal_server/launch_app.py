"""Run ``app.py`` as ``__main__`` with fal_client's upload hosts pointed at the test fal server.

For tests that start the app as a subprocess: the parent's environment (set by ``tests/conftest.py``) already
carries ``FAL_QUEUE_RUN_HOST``, ``SSL_CERT_FILE`` and ``CLARITY_TEST_FAL_URL``; the upload hosts are module
constants, so they are patched here before the app runs. Usage: ``python tests/fal_server/launch_app.py [args]``.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    url = os.environ.get("CLARITY_TEST_FAL_URL")
    if not url or not os.environ.get("FAL_QUEUE_RUN_HOST"):
        sys.exit("launch_app.py: CLARITY_TEST_FAL_URL and FAL_QUEUE_RUN_HOST must be set (see tests/conftest.py)")
    import fal_client.client

    fal_client.client.REST_URL = url
    fal_client.client.CDN_URL = url
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    sys.argv = [str(ROOT / "app.py"), *sys.argv[1:]]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
