"""The release catalogue in the CLI: `datasets list`'s description of every loader, the release check
`datasets show` prints, and `datasets fetch`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

ACCESS = {"public": "direct download (`affectlens datasets fetch NAME`)", "page": "download by hand from the page",
          "request": "on request (licence agreement or form)", "account": "needs an account on the site"}


def releases() -> list[dict[str, Any]]:
    """One dict per loader with a registered release description (name first)."""
    from engine.datasets import loader_info, loader_names

    return [{"name": name, **asdict(info)} for name in loader_names() if (info := loader_info(name)) is not None]


def format_releases(rows: list[dict[str, Any]]) -> str:
    lines = ["Official releases (use the name as `name:` or `format:` in a config):"]
    for row in rows:
        expected = ", ".join(f"{k} {v:,}" for k, v in row["expected"].items())
        lines.append(f"  {row['name']:<12} {row['title']}")
        lines.append(f"  {'':<12} dimensions: {', '.join(row['dimensions']) or '-'}; taxonomy: "
                     f"{row['taxonomy'] or '-'}; images: {expected or '-'}")
        lines.append(f"  {'':<12} licence: {row['licence']}")
        lines.append(f"  {'':<12} cite: {row['citation']}")
        lines.append(f"  {'':<12} get it: {ACCESS.get(row['access'], row['access'])}: {row['homepage']}")
    return "\n".join(lines) + "\n"


def release_check(dataset) -> dict[str, dict[str, int]] | None:
    """Per split of the release: the number of images it should have and how many were found."""
    from engine.datasets import loader_info

    info = loader_info(dataset.loader)
    if info is None or not info.expected:
        return None
    out = {}
    for split, expected in info.expected.items():
        if split == "all":
            found = len(dataset.items)
        elif split in dataset.splits:
            found = len(set(dataset.splits[split]) & {i.item_id for i in dataset.items})
        else:
            found = sum(1 for item in dataset.items if item.split == split)
        out[split] = {"expected": expected, "found": found}
    return out


def format_check(check: dict[str, dict[str, int]] | None) -> str:
    if not check:
        return ""
    lines = ["release:     found / the official release (images per split)"]
    for split, counts in check.items():
        found, expected = counts["found"], counts["expected"]
        state = "complete" if found == expected else (f"{expected - found:,} missing" if found < expected
                                                     else f"{found - expected:,} more than the release")
        lines.append(f"  {split:<22} {found:>8,} / {expected:<8,} {state}")
    return "\n".join(lines) + "\n"


def register_fetch(sub: argparse._SubParsersAction) -> None:
    fetch = sub.add_parser("fetch", help="download a public release, verify its checksum, unpack it",
                           description=cmd_fetch.__doc__)
    fetch.add_argument("name", help="dataset name (see `affectlens datasets list`)")
    fetch.add_argument("--to", default=None, metavar="DIR", help="target folder (default: datasets/NAME)")
    fetch.add_argument("--url", default=None, help="download from this URL instead (e.g. a mirror)")
    fetch.add_argument("--sha256", default=None, metavar="HEX", help="the expected sha256 of the file")
    fetch.add_argument("--no-verify", action="store_true",
                       help="install even though no checksum is known (prints a warning)")
    fetch.add_argument("--timeout", type=float, default=60.0, help="seconds without data before giving up (60)")
    fetch.set_defaults(func=cmd_fetch)


def cmd_fetch(args: argparse.Namespace) -> int:
    """Download a dataset with a public release (resumable), verify its size and sha256, and unpack it into
    the loader's layout. Sets distributed on request are refused with where to request them."""
    from engine.datasets.fetch import fetch_dataset

    result = fetch_dataset(args.name, args.to, url=args.url, sha256=args.sha256, no_verify=args.no_verify,
                           timeout=args.timeout, warn=lambda text: print(text, file=sys.stderr))
    resumed = f", resumed at byte {result.resumed_from:,}" if result.resumed_from else ""
    print(f"fetched {result.file} ({result.size:,} bytes{resumed}), sha256 {result.sha256}"
          f"{'' if result.verified else ' (NOT verified)'}")
    print(f"installed {len(result.installed)} file(s) in {result.target}")
    print(f"config entry: {{name: {result.name}, path: {result.target}}}")
    return 0


def format_markdown(rows: list[dict[str, Any]]) -> str:
    """The README's table of supported releases and their config entries (`datasets list --markdown`)."""
    access = {"public": "download: `affectlens datasets fetch {name}`", "page": "download page",
              "request": "on request", "account": "site account"}
    lines = ["| set | gold AffectLens reads | files read | get it | licence | cite |", "|---|---|---|---|---|---|"]
    for row in rows:
        gold = ", ".join(row["dimensions"]) + (f" ({row['taxonomy']})" if row["taxonomy"] else "")
        images = ", ".join(f"{k} {v:,}" for k, v in row["expected"].items())
        how = access.get(row["access"], row["access"]).format(name=row["name"])
        reads = row["reads"].replace("<", "&lt;").replace(">", "&gt;")  # <id> would be read as an HTML tag
        lines.append(f"| `{row['name']}`: {row['title']} ({images}) | {gold} | {reads} | "
                     f"{how}: <{row['homepage']}> | {row['licence']} | {row['citation']} |")
    lines += ["", "```yaml", "datasets:"]
    lines += [f"  - {row['config']}" for row in rows]
    lines.append("```")
    return "\n".join(lines) + "\n"
