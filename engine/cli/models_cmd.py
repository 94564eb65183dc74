"""`affectlens models list` (every adapter and what it can do) and `affectlens models show NAME` (its options)."""

from __future__ import annotations

import argparse
import json
import types
import typing
from typing import Any

from engine.models.registry import ADAPTERS, AdapterInfo, adapter_info

ADAPTER_HELP = "an adapter name (see `affectlens models list`)"


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="the model adapters: what each can do and the options it takes")
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    listed = actions.add_parser("list", help="every adapter (built-in and from installed plugins) with its "
                                             "capabilities")
    listed.add_argument("--json", action="store_true", help="print a JSON array")
    listed.set_defaults(func=_list)
    shown = actions.add_parser("show", help="one adapter's capabilities and typed options (the keys its models' "
                                            "`options:` take)")
    shown.add_argument("name", help=ADAPTER_HELP)
    shown.add_argument("--json", action="store_true", help="print a JSON object (options as JSON Schema)")
    shown.set_defaults(func=_show)


def type_name(annotation: Any) -> str:
    """A field type as a config author reads it: `auto | cpu`, `int`, `str | null`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(str(v) for v in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    return getattr(annotation, "__name__", str(annotation))


def option_rows(info: AdapterInfo) -> list[dict[str, Any]]:
    """One row per option of the adapter's options model: name, type, default (or required), description."""
    rows = []
    for name, field in info.options.model_fields.items():
        required = field.is_required()
        rows.append({"option": name, "type": type_name(field.annotation), "required": required,
                     "default": None if required else field.get_default(call_default_factory=True),
                     "description": field.description or ""})
    return rows


def _where(info: AdapterInfo) -> str:
    return "remote" if info.remote else "local"


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _record(info: AdapterInfo) -> dict[str, Any]:
    return {"name": info.name, "description": info.description, "installed": info.sdk_available(),
            **info.capabilities()}


def _list(args: argparse.Namespace) -> int:
    records = [_record(info) for info in ADAPTERS.entries()]
    if args.json:
        print(json.dumps(records))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("adapter", "where", "key", "installed", "batch API", "structured", "logprobs", "prompt-blind",
                  "trains on", "dimensions", title="Model adapters (`affectlens models show NAME` for options)")
    for r in records:
        key = (r["key_env"] or "") if r["key_required"] or r["key_env"] else ("optional" if r["remote"] else "")
        installed = "yes" if r["installed"] else f"pip install 'affectlens[{r['extra']}]'"
        table.add_row(r["name"], "remote" if r["remote"] else "local", key, installed, _yes(r["batch_api"]),
                      _yes(r["structured_output"]), _yes(r["logprobs"]), _yes(r["prompt_blind"]),
                      r["training"] or "", ", ".join(r["dimensions"]) if r["dimensions"] else "as asked")
    Console(width=200).print(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    info = adapter_info(args.name)
    rows = option_rows(info)
    if args.json:
        print(json.dumps({**_record(info), "target": info.target if isinstance(info.target, str)
                          else f"{info.target.__module__}:{info.target.__qualname__}",
                          "options": info.options.model_json_schema()}, default=str))
        return 0
    caps = info.capabilities()
    print(f"{info.name}: {info.description}")
    print(f"  runs: {_where(info)}" + (f"; key: {', '.join(info.key_envs)}" if info.key_envs else "")
          + ("" if info.sdk_available() else f"; needs pip install 'affectlens[{info.extra}]'"))
    abilities = [label for label, on in (("vendor batch API (batch:)", caps["batch_api"]),
                                         ("batches concurrent requests", caps["batches_requests"]),
                                         ("structured output", caps["structured_output"]),
                                         ("logprobs", caps["logprobs"]),
                                         ("ignores the prompt", caps["prompt_blind"])) if on]
    print(f"  can: {', '.join(abilities) or 'answer prompts'}")
    if info.dimensions:
        print(f"  dimensions: {', '.join(info.dimensions)}")
    if info.training:
        print(f"  trains on: the training items' {info.training} (never the evaluated items)")
    print("options:" if rows else "options: none")
    for row in rows:
        default = "required" if row["required"] else f"default {json.dumps(row['default'])}"
        print(f"  {row['option']}: {row['type']} ({default})" + (f" -- {row['description']}" if row["description"]
                                                                 else ""))
    return 0
