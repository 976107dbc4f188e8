"""What the tests and the benchmarks share: the test fal server (``fal_server/``), the app as a subprocess
(``apps.py``) and Debian's Chromium's launch flags (``chromium.py``). It imports neither ``tests`` nor
``components``."""
