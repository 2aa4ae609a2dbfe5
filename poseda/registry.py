"""One kind of registry for every named thing code may add: lifters, adaptation methods, keypoint
formats and readers, importers, export formats, bundled lifters.

A :class:`Registry` reads like a dict (``name in R``, ``R[name]``, ``R.items()``, in registration
order) and is written only by :meth:`~Registry.register`, which refuses a bad or taken name and
records the plugin registering it (:func:`poseda.plugins.current_plugin`); :meth:`~Registry.lookup`
refuses an unknown name with the closest known one; :meth:`~Registry.describe` lists the entries:

>>> colours = Registry("colour", "register_colour")
>>> colours.register("red", (255, 0, 0), about="the colour of stop signs")
(255, 0, 0)
>>> colours.lookup("rad", "--colour")
Traceback (most recent call last):
poseda.errors.PosedaInputError: --colour: unknown colour 'rad' (did you mean 'red'?; known: red; a plugin can register more)
>>> colours.describe()
['red  the colour of stop signs']
"""
from __future__ import annotations

import difflib
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from poseda.errors import PosedaInputError
from poseda.plugins import current_plugin

T = TypeVar("T")
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_NO_ENTRY = object()


def qualified_name(obj: Any) -> str:
    """``module:qualname`` of a class or function."""
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _same(a: Any, b: Any) -> bool:
    """``b`` is ``a`` again: the same object, class or function (a plugin imported twice), or an equal record of such."""
    if a is b:
        return True
    if hasattr(a, "__qualname__") or hasattr(b, "__qualname__"):
        return qualified_name(a) == qualified_name(b)
    if is_dataclass(a) and type(a) is type(b):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return type(a) is type(b) and a == b


def _registering_plugin() -> str | None:
    """The plugin whose code is registering (:func:`poseda.plugins.current_plugin`), or None for
    poseda's own modules registering their built-ins, even while a plugin's import pulls them in:
    the first caller outside poseda is that plugin's code, or the import machinery."""
    plugin, frame = current_plugin(), sys._getframe(2)
    while plugin and frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "poseda" and not module.startswith("poseda."):
            return None if module.startswith("importlib.") else plugin
        frame = frame.f_back
    return plugin


def _doc_line(entry: Any) -> str:
    doc = inspect.getdoc(entry) if inspect.isclass(entry) or inspect.isroutine(entry) else None
    return (doc or "").split("\n\n")[0].replace("\n", " ")


class Registry(Mapping[str, T]):
    """Entries of one ``kind`` by name. ``where`` names the registry in its errors (the function a
    plugin calls); ``about(entry)`` says what an entry is (default: its docstring's first paragraph);
    ``pluggable=False`` for a registry no plugin adds to."""

    def __init__(self, kind: str, where: str, about: Callable[[T], str] | None = None, pluggable: bool = True):
        self.kind, self.where, self.pluggable, self._about = kind, where, pluggable, about or _doc_line
        self._entries: dict[str, T] = {}
        self._origins: dict[str, str | None] = {}
        self._notes: dict[str, str] = {}
        #: name -> the plugin that registered it (None: built in, or registered by code that imported poseda)
        self.origins: Mapping[str, str | None] = MappingProxyType(self._origins)

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def register(self, name: str, entry: Any = _NO_ENTRY, *, about: str | None = None):
        """Add ``entry`` as ``name`` and return it (without ``entry``: a decorator that does). The same
        entry again (a plugin loaded twice) replaces itself; another under a taken name is refused."""
        if entry is _NO_ENTRY:
            return lambda e: self.register(name, e, about=about)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise PosedaInputError(self.where, f"bad {self.kind} name {name!r} (letters, digits, '_' or '-', not starting with '-')")
        if name in self._entries and not _same(old := self._entries[name], entry):
            by = qualified_name(old) if hasattr(old, "__qualname__") else self._origins[name] or "poseda"
            raise PosedaInputError(self.where, f"{self.kind} name {name!r} is taken (by {by})")
        self._entries[name], self._origins[name], self._notes[name] = entry, _registering_plugin(), about or ""
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and doctests that register something of their own)."""
        for d in (self._entries, self._origins, self._notes):
            d.pop(name, None)

    def lookup(self, name: str, where: str | None = None) -> T:
        """The entry of ``name``; an unknown one is refused naming ``where``, the closest known name and all of them."""
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        close = difflib.get_close_matches(str(name), list(self._entries), n=1)
        hint = f"did you mean {close[0]!r}?; " if close else ""
        more = "; a plugin can register more" if self.pluggable else ""
        raise PosedaInputError(where or self.kind, f"unknown {self.kind} {name!r} ({hint}known: {', '.join(self._entries)}{more})")

    def origin(self, name: str) -> str | None:
        """The plugin that registered ``name`` (None: built in, or not registered)."""
        return self._origins.get(name)

    def about(self, name: str) -> str:
        """What ``name`` is, in one line."""
        return self._notes[name] or self._about(self._entries[name])

    def describe(self) -> list[str]:
        """One line per entry, in registration order: name, what it is, ``[plugin FILE]`` if a plugin registered it."""
        width = max(map(len, self._entries), default=0)
        return [f"{n:{width}s}  {self.about(n)}" + (f" [plugin {o}]" if (o := self._origins[n]) else "") for n in self._entries]
