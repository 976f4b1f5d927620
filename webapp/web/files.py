"""A stored file sent to the browser: a download or an inline view, under a sandbox policy."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response

from webapp.services import filetypes


def send(
    chunks: Iterable[bytes], *, title: str, media_type: str, size: int, disposition: str
) -> Response:
    """`title` becomes the file name (RFC 6266 and 5987: an ASCII fallback and the UTF-8 name),
    without control characters, which a header cannot hold."""
    extension = filetypes.EXTENSIONS.get(media_type, "")
    base = "".join(c for c in title if unicodedata.category(c)[0] != "C").strip() or "document"
    name = base if base.lower().endswith(extension) else base + extension
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response = Response(chunks, mimetype=media_type, direct_passthrough=True)
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
