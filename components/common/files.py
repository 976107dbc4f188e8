"""Handing a visitor's own files to the page without serving the data directory.

The data directory is never in ``allowed_paths``: Gradio would serve every file in it to anyone who names it
(the database, its journal, the secrets, every visitor's inputs and outputs). A file reaches the page only as an
output of the visitor's own handler, which Gradio copies into its cache under a directory named by a keyed hash of
the content. Gradio takes such outputs from the working directory and the system's temp directory; a data
directory elsewhere (a Space's persistent ``/data``) is copied into the cache here first, with Gradio's own
function.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils, utils


def _taken_as_is(path: Path) -> bool:
    return any(path.is_relative_to(Path(root).resolve()) for root in (os.getcwd(), tempfile.gettempdir()))


def servable(path: str | None) -> str | None:
    """A path Gradio will accept as an output value for ``path`` (the same path, or a cached copy); None stays
    None. The caller has already checked that the file is the visitor's."""
    if not path:
        return None
    resolved = Path(path).resolve()
    if _taken_as_is(resolved) or not resolved.is_file():
        return path
    return processing_utils.save_file_to_cache(resolved, utils.get_upload_folder())

