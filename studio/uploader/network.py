"""What the uploader asks of the network: is a URL a usable http(s) address, is the network metered?

Metered (for targets set to upload only on unmetered networks):

Qt's QNetworkInformation answers where a backend exists (Windows, macOS, Android, and Linux with
NetworkManager) and only inside a running Qt application. Anywhere else — the headless CLI, a Linux
without NetworkManager — the answer is "unknown" and uploads proceed: we would rather upload than
wait forever for an answer that never comes. The Uploads page says which case applies.
"""

from __future__ import annotations

from urllib.parse import ParseResult, urlparse


def http_url(url: str) -> ParseResult | None:
    """``url`` parsed when it is an http:// or https:// URL with a host (and a valid port), else None."""
    try:
        u = urlparse(url)
        u.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return u if u.scheme in ("http", "https") and bool(u.hostname) and " " not in url else None


def is_metered() -> bool | None:
    """True/False where Qt can tell, None where it cannot."""
    try:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtNetwork import QNetworkInformation
    except ImportError:
        return None
    if QCoreApplication.instance() is None:
        return None
    info = QNetworkInformation.instance()
    if info is None:
        if not QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Metered):
            return None
        info = QNetworkInformation.instance()
    if info is None or not info.supports(QNetworkInformation.Feature.Metered):
        return None
    return bool(info.isMetered())
