"""The picture input's documented example and default: a bundled photo this app serves itself.

The API page's snippets (Gradio writes them from each parameter's default or example, ``gradio_client.snippet``)
fetch or upload the picture they show; Gradio's own example for a file is a PDF on the internet. This one is
``examples/chelsea.jpg``, at the address of the copy in Gradio's cache that the page's example gallery serves.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from gradio import processing_utils, utils

from components.upscale.image_input import EXAMPLES as PHOTOS

SAMPLE = PHOTOS / "chelsea.jpg"  # the picture input's documented example and default: a bundled photo
_ROOT = ["http://127.0.0.1:7860/"]  # where this app answers: set at launch (``serve_at``)


def serve_at(root: str) -> None:
    """Say where this app answers (its local URL, or a Space's public one), for the sample photo's address.

    A snippet's ``handle_file(url)`` hands Gradio the URL to fetch, and Gradio fetches only public addresses
    (``safehttpx``): on a machine's own address the sample would be refused. Gradio keeps a fetched URL in its
    cache under the URL's hash and never fetches it again, so the sample is put there as the file that URL
    serves, and a snippet pasted as shown runs on a local app too."""
    _ROOT[0] = root if root.endswith("/") else root + "/"
    url = sample_photo()["url"]
    kept = Path(utils.get_upload_folder()) / processing_utils.hash_url(url) / SAMPLE.name
    if not kept.is_file():
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE, kept)


def sample_photo() -> dict[str, Any]:
    """The sample photo as a file this app serves itself (the copy in Gradio's cache that the page's example
    gallery serves): a FileData with its full URL, what the API page's snippets fetch or upload."""
    cached = processing_utils.save_file_to_cache(SAMPLE, utils.get_upload_folder())  # the gallery's own copy
    url = f"{_ROOT[0]}gradio_api/file={cached}"
    return {"path": url, "url": url, "orig_name": SAMPLE.name, "meta": {"_type": "gradio.FileData"}}
