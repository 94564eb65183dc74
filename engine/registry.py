"""One registry per extension point: names mapped to what they are and what they can do.

Model adapters (`engine.models.registry`), prompt strategies (`engine.prompts.strategies`), metrics
(`engine.metrics.registry`), dataset loaders (`engine.datasets.base`) and probes
(`engine.perturb`) each keep a `Registry`. A decorator adds an entry with its capabilities;
everything else (the runner, config validation, the CLI, the dashboard) asks the registry, never
tests a name itself.

A registry knows its built-in modules and imports them the first time it is read, and it reads its
entry-point group (`engine.plugins`) for names it does not hold, so an installed plugin costs nothing
until it is used and a built-in name cannot be taken over.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

__all__ = ["ENTRY_ATTR", "Registry", "UnknownName", "did_you_mean"]

#: the attribute a decorated class or function carries its registry entry in
ENTRY_ATTR = "__affectlens_entry__"

Info = TypeVar("Info")


class UnknownName(KeyError):
    """A name no registry entry (built-in or plugin) answers to; the message lists the choices."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return str(self.args[0]) if self.args else ""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest known name, or ""."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Registry(Generic[Info]):
    """Entries of one extension point, by name.

    `kind` names it in messages ("model adapter"); `group` is its entry-point group; `modules` are the
    built-in modules whose decorators fill it; `from_plugin(name, loaded)` turns what a plugin's entry
    point names into an entry when the plugin did not register itself with the decorator.
    """

    def __init__(self, kind: str, group: str | None = None, modules: tuple[str, ...] = (),
                 from_plugin: Callable[[str, Any], Info] | None = None):
        self.kind = kind
        self.group = group
        self.modules = modules
        self.from_plugin = from_plugin
        self._entries: dict[str, Info] = {}
        self._aliases: dict[str, str] = {}
        self._loaded = False

    # -- filling ------------------------------------------------------------------------------------
    def add(self, name: str, info: Info, obj: Any = None, aliases: Iterable[str] = ()) -> Info:
        """Declare `info` under `name` (and its aliases) for `obj`, the decorated class or function.

        The entry is attached to `obj` (`ENTRY_ATTR`); it joins the built-ins when `obj` lives in the
        `engine` package. A plugin's object is found through its entry point instead, under the entry
        point's name, so a plugin can never take over a built-in name.
        """
        if obj is not None:
            setattr(obj, ENTRY_ATTR, info)
            if not str(getattr(obj, "__module__", "")).startswith("engine."):
                return info
        if name in self._entries and self._entries[name] is not info:
            raise ValueError(f"{self.kind} {name!r} is registered twice; give one of them another name")
        self._entries[name] = info
        for alias in aliases:
            self._aliases[alias] = name
        return info

    def remove(self, name: str) -> Info | None:
        """Take `name` (and its aliases) out again: for a test that declared an entry of its own."""
        for alias in [a for a, target in self._aliases.items() if target == name]:
            del self._aliases[alias]
        return self._entries.pop(name, None)

    def _load_builtins(self) -> None:
        if not self._loaded:  # a module that fails to import is an error every time, never a half-filled registry
            for module in self.modules:
                importlib.import_module(module)
            self._loaded = True

    # -- reading --------------------------------------------------------------------------------------
    def builtin_names(self) -> list[str]:
        """The built-in names, in registration order."""
        self._load_builtins()
        return list(self._entries)

    def plugin_names(self) -> list[str]:
        """Names installed plugins add (entry points of `group`), built-in names left out."""
        if self.group is None:
            return []
        from engine import plugins
        return [n for n in plugins.names(self.group) if n not in self.builtin_names()]

    def names(self) -> list[str]:
        """Built-in names in registration order, then plugin names, sorted."""
        return self.builtin_names() + self.plugin_names()

    def canonical(self, name: str) -> str:
        """`name` with an alias resolved to the name it stands for."""
        self._load_builtins()
        return self._aliases.get(name, name)

    def find(self, name: str) -> Info | None:
        """The entry for `name` (or its alias), loading a plugin when needed; None when nobody declares it."""
        key = self.canonical(name)
        if key in self._entries:
            return self._entries[key]
        if self.group is None:
            return None
        from engine import plugins
        loaded = plugins.load(self.group, key)
        if loaded is None:
            return None
        info = getattr(loaded, ENTRY_ATTR, None)
        if info is None:  # a plugin without the decorator: described from what it is
            if self.from_plugin is None:
                raise TypeError(f"{self.kind} plugin {key!r} must be declared with the registry's decorator")
            info = self.from_plugin(key, loaded)
        elif getattr(info, "name", key) != key and dataclasses.is_dataclass(info):
            info = dataclasses.replace(info, name=key)  # the entry point's name is the one configs use
        return info  # not kept: `engine.plugins` caches the loaded object, and `refresh()` forgets it

    def get(self, name: str, what: str = "") -> Info:
        """The entry for `name`; an unknown name raises `UnknownName` with a did-you-mean and the choices."""
        found = self.find(name)
        if found is None:
            known = self.names()
            prefix = f"{what}: " if what else ""
            raise UnknownName(f"{prefix}unknown {self.kind} {name!r}{did_you_mean(name, known + list(self._aliases))}"
                              f"; choose one of: {', '.join(known)}")
        return found

    def entries(self) -> list[Info]:
        """Every entry, built-ins first (plugins are loaded)."""
        return [self.get(name) for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None
