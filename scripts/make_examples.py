"""Write the example photos in ``examples/`` from scikit-image's own samples (``skimage.data``), at their full size
(400–640 px a side), so an upscale of one shows what the engines do. Run once when the set changes:

    python scripts/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from skimage import data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket")


def main() -> None:
    for name in SAMPLES:
        picture = Image.fromarray(getattr(data, name)())
        picture.save(EXAMPLES / f"{name}.jpg", quality=92, optimize=True)
        print(f"examples/{name}.jpg {picture.width}×{picture.height}")


if __name__ == "__main__":
    main()
