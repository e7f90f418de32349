"""Postgres connection settings resolved off the event loop.

asyncpg reads ``~/.pgpass`` and SSL certificate files while connecting, on the
event loop. Resolving the password and the SSL context beforehand, in an
executor, leaves it nothing to read. Supported ``sslmode`` values: ``disable``
(the default), ``require``, ``verify-ca`` and ``verify-full``; ``allow`` and
``prefer`` are treated as ``disable`` (their fallback needs asyncpg's own file
lookups on the loop).
"""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy.engine import URL, make_url

SSL_QUERY_KEYS = ("sslmode", "ssl", "sslrootcert")


def resolve(url_text: str) -> tuple[URL, dict[str, Any]]:
    """The URL without SSL options, and asyncpg connect arguments (blocking)."""
    url = make_url(url_text)
    query = dict(url.query)
    mode = str(query.get("sslmode") or query.get("ssl") or "disable")
    root_cert = query.get("sslrootcert")
    args: dict[str, Any] = {}
    if url.password is None:
        # No password given: do not let asyncpg look for a pgpass file.
        args["password"] = ""
    if mode in ("disable", "allow", "prefer"):
        args["ssl"] = False
    else:
        context = ssl.create_default_context(
            cafile=str(root_cert) if root_cert else None
        )
        if mode == "require" and not root_cert:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context.check_hostname = mode == "verify-full"
        args["ssl"] = context
    stripped = url.difference_update_query(SSL_QUERY_KEYS)
    return stripped, args
