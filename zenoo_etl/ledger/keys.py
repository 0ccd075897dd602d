"""How targets and ledger urls become keys and printable text, minus their secrets.

A scope is (target url, database). A url may carry ``user:password@`` or a
query string with a token; neither is part of the scope key nor ever stored,
so the same server reached with different credentials is one scope.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def scope_key(target_url: str, database: str) -> tuple[str, str]:
    """Normalise a target into the (url, database) pair the ledger stores."""
    url = target_url.strip()
    parts = urlsplit(url)
    if parts.netloc:
        host = parts.netloc.rpartition("@")[2].lower()
        default = {"http": ":80", "https": ":443"}.get(parts.scheme.lower())
        if default and host.endswith(default):
            host = host[: -len(default)]
        path = parts.path.rstrip("/")
        url = urlunsplit((parts.scheme.lower(), host, path, "", ""))
    return url, database.strip()


def mask_url(url: str) -> str:
    """The url with any password replaced by ``***`` (for messages and logs)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if query:
        # libpq also accepts ?password=...; mask every value of a secret-looking key.
        query = urlencode(
            [
                (k, "***" if any(s in k.lower() for s in _SECRET_WORDS) else v)
                for k, v in parse_qsl(query, keep_blank_values=True)
            ],
            safe="*",
        )
    if netloc == parts.netloc and query == parts.query:
        return url  # urlunsplit would turn sqlite:///x into sqlite:/x
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_SECRET_WORDS = ("password", "secret", "token", "key")


__all__ = ["mask_url", "scope_key"]
