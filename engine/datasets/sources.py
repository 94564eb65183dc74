"""Where each supported dataset can be obtained: the registry `affectlens datasets fetch` reads.

A `Source` is either a direct public download (`url`, with `sha256` and `size` where known) or a page
to visit by hand (`access="page"`), a request form (`"request"`) or a site that needs an account
(`"account"`); fetch refuses the last three and says where to go.

The entries live in the release catalogue `engine/data/releases.yaml` (each release's `download`,
with its `access` and `homepage` as page). Only URLs known to be the authors' official ones are
listed. **Checksums of the real releases must be filled in from the official release where they are
unknown here**: an entry whose `sha256` is None is never installed unverified -- fetch stops after
the download, prints the file's sha256 for the user to compare with the official one, and installs it
only when rerun with `--sha256 HEX` (or `--no-verify`, with a warning). No checksum there was guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.datasets.catalogue import release_entries

__all__ = ["Source", "SOURCES", "get_source"]


@dataclass(frozen=True)
class Source:
    """One dataset's download: a file to fetch and how it unpacks into the loader's layout."""

    name: str
    access: str  # public | page | request | account
    page: str  # where a person gets it (the request form, the download page, the repository)
    url: str | None = None
    sha256: str | None = None  # of the file at `url`; None = not known here (see the module docstring)
    size: int | None = None  # bytes
    filename: str | None = None  # name to save as (default: the URL's last part)
    unpack: str = "auto"  # auto (by extension) | zip | tar | none
    note: str = ""  # what the download holds and what else is needed

    @property
    def downloadable(self) -> bool:
        return self.access == "public" and self.url is not None


_SOURCES = tuple(Source(name, entry["access"], entry["homepage"], **entry.get("download", {}))
                 for name, entry in release_entries().items())

SOURCES: dict[str, Source] = {source.name: source for source in _SOURCES}


def get_source(name: str) -> Source | None:
    return SOURCES.get(name)
