"""What an anonymous visitor of a hosted dashboard may see: relative names, no server paths, no platform.

In viewer mode, a session that is not signed in sees file names instead of absolute paths (the
results file, dataset roots, config paths) and run provenance without the platform, interpreter and
package versions. Everyone, signed in or not, sees text scrubbed of secrets (`engine.secrets.scrub`).
Signed-in people and local use see everything as stored.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from engine.secrets import scrub, scrub_text

#: provenance keys that describe the server rather than the run
SERVER_DETAILS = ("platform", "packages", "executable", "python", "hostname", "cwd")
# an absolute POSIX or Windows path (two or more components) inside free text
_ABSOLUTE = re.compile(r"(?<![\w.:/])(?:[A-Za-z]:\\|/)(?:[^\s/\\'\"`<>|]+[/\\])+[^\s/\\'\"`<>|]*")


def anonymous() -> bool:
    """True in viewer mode for a session that is not signed in."""
    from dashboard import settings
    from dashboard.components import auth

    return settings.viewer_mode() and not auth.can_act()


def public_path(path: str | None) -> str:
    """`path` as an anonymous visitor sees it: its last component."""
    if not path:
        return ""
    return PurePath(str(path)).name if anonymous() else str(path)


def _relative(text: str) -> str:
    return _ABSOLUTE.sub(lambda m: PurePath(m.group(0).rstrip("/\\")).name or m.group(0), text)


def public_text(text: str | None) -> str:
    """Free text (an error, a caption) scrubbed of secrets and, for anonymous visitors, of server paths."""
    if not text:
        return text or ""
    text = scrub_text(str(text))
    return _relative(text) if anonymous() else text


def public_record(value: Any, *, drop: tuple[str, ...] = ()) -> Any:
    """A config or provenance record: scrubbed; for anonymous visitors also without server details
    (`drop` plus `SERVER_DETAILS`, at any depth) and with every absolute path cut to its name."""
    value = scrub(value)
    if not anonymous():
        return value
    hidden = set(drop) | set(SERVER_DETAILS)

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items() if k not in hidden}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        if isinstance(obj, str):
            return _relative(obj)
        return obj

    return walk(value)
