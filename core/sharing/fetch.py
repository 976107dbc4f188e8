"""Fetch an image a visitor named by URL: https only, size-capped, redirects checked hop by hop.

In shared mode (a Space) every hop goes through ``safehttpx``, which resolves the host and refuses loopback,
private, link-local and reserved addresses (cloud metadata included) and pins the connection to the checked
address. A single-user app may read its own machine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from urllib.parse import urljoin

import httpx
import safehttpx

from core import config
from core.errors import InputError

MAX_REDIRECTS = 5


def _timeout() -> httpx.Timeout:
    """``CLARITY_FETCH_TIMEOUT`` seconds (default 15) to wait for an answer; read per call, like every setting."""
    return httpx.Timeout(config.number("CLARITY_FETCH_TIMEOUT", 15), connect=5.0)


async def _client(url: str, shared: bool) -> httpx.AsyncClient:
    if not shared:
        return httpx.AsyncClient(timeout=_timeout())
    try:  # safehttpx's own checks: resolve, refuse non-public addresses, pin the connection to the checked one
        verified = await safehttpx.async_validate_url(httpx.URL(url).host)
    except ValueError as exc:
        if "resolve" in str(exc):
            raise InputError("The image URL's host could not be found.", "image_url") from None
        raise InputError("That address is not a public internet address; this shared app only fetches "
                         "images from public https:// URLs.", "image_url") from None
    return httpx.AsyncClient(transport=safehttpx.AsyncSecureTransport(verified), timeout=_timeout())


def _too_large() -> InputError:
    return InputError(f"The image at that URL is larger than the upload limit "
                      f"({config.max_upload_bytes() / 2**20:.0f} MB).", "image_url")


async def _read_capped(response: httpx.Response) -> bytes:
    """The body, refused as soon as it is known to exceed the upload limit: by its Content-Length before
    anything is read, else while streaming — never read whole first."""
    limit = config.max_upload_bytes()
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise _too_large()
    return bytes(body)


def _not_https(url: str) -> str:
    """Why ``url`` is not fetched: its scheme when it has one, else that it is no address at all."""
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", url.strip())
    if scheme:
        return f"Only https:// image URLs can be fetched; this one begins with “{scheme.group(0)}”."
    shown = url.strip() if len(url.strip()) <= 60 else url.strip()[:57] + "…"
    return (f"“{shown}” is not an image address: paste an https:// URL or a data: URI, or upload the file "
            "instead.")


async def fetch_image_bytes_async(url: str) -> bytes:
    """The body of an https URL that should hold an image, or InputError saying why not."""
    shared = config.shared_mode()
    for _ in range(MAX_REDIRECTS + 1):
        if not url.lower().startswith("https://"):
            raise InputError(_not_https(url), "image_url")
        try:
            async with await _client(url, shared) as client, client.stream("GET", url) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise InputError(f"The image URL answered HTTP {response.status_code}.", "image_url")
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind and not (kind.startswith("image/") or kind == "application/octet-stream"):
                    raise InputError(f"The URL is not an image (its content type is {kind}).", "image_url")
                return await _read_capped(response)
        except httpx.TimeoutException:
            raise InputError("The image URL did not answer in time.", "image_url") from None
        except (httpx.InvalidURL, UnicodeError):  # a malformed host, port or character: nothing could be sent
            raise InputError("The image URL is not a valid address.", "image_url") from None
        except httpx.HTTPError as exc:
            raise InputError(f"The image URL could not be reached ({type(exc).__name__}).", "image_url") from None
    raise InputError("The image URL redirects too many times.", "image_url")


def fetch_image_bytes(url: str) -> bytes:
    """Synchronous wrapper, callable from any thread, event loop or not: inside a running loop (which
    ``asyncio.run`` refuses) the fetch runs on a worker thread of its own while this thread waits."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(fetch_image_bytes_async(url))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, fetch_image_bytes_async(url)).result()
