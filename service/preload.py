"""``qbank serve``'s head start: the serving encoder loads on a thread while the
web app is imported.

With one worker, uvicorn imports the app in the process ``qbank serve`` runs
in, and the two longest steps before ``/readyz`` answers 200 are independent:
importing the web app (FastAPI, SQLAlchemy, the routes: pure Python, holding
the GIL) and building the encoder's ONNX Runtime session (C++, which lets the
GIL go).  ``start`` begins the second before the first; the app's factory
``claim``s the encoder, and the service's load ``wait``s for it on its loading
thread, so the port is open (``/readyz`` says "loading") all the while.

A preload that fails is only logged at debug level: the service's load calls
``load()`` again and reports the error where every load error is reported.
With several workers each is a fresh process and nothing is preloaded.
"""

from __future__ import annotations

import logging
import threading

from index.embed import Embedder

log = logging.getLogger(__name__)

_claimable: Embedder | None = None
_loading: dict[Embedder, threading.Thread] = {}  # each preloaded encoder's thread, until waited for


def _load(embedder: Embedder) -> None:
    try:
        embedder.load()
    except Exception:  # noqa: BLE001 - the service's load tries again and reports it
        log.debug("preloading the encoder failed; the service's load will say why", exc_info=True)


def start(embedder: Embedder) -> None:
    """Load ``embedder`` on a thread, to be ``claim``ed by the next app made in this process."""
    global _claimable
    thread = threading.Thread(target=_load, args=(embedder,), name="qbank-encoder-preload", daemon=True)
    _loading[embedder] = thread
    _claimable = embedder
    thread.start()


def claim() -> Embedder | None:
    """The preloaded encoder (perhaps still loading), once; ``None`` if none was started."""
    global _claimable
    embedder, _claimable = _claimable, None
    return embedder


def wait(embedder: Embedder) -> None:
    """Until ``embedder``'s preload, if it has one, is done (loaded or failed)."""
    thread = _loading.pop(embedder, None)
    if thread is not None:
        thread.join()
