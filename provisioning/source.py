"""Read realm YAML while remembering where every value came from, so each error can
name the file, the line and the field path. Environment overlays merge over the base.
A document converted from Keycloak's realm JSON remembers, instead of lines, where each
object sits in the JSON (`realm.json: groups[2].subGroups[0]: ...`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from idpack.errors import IdpackError

FieldPath = tuple[str | int, ...]
# libyaml's parser when PyYAML was built with it: ten times faster on big realm files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Location:
    file: Path
    line: int | None  # 1-based; None in a realm JSON, which `json_path` places instead
    # Where a value of a document converted from realm JSON sits in the JSON.
    json_path: FieldPath | None = None

    def __str__(self) -> str:
        return str(self.file) if self.line is None else f"{self.file}:{self.line}"


class ConfigError(IdpackError):
    """Invalid realm configuration; each problem names file, line and field. A `hint`
    says what to do about them, and is not one of them."""

    def __init__(self, problems: list[str], hint: str | None = None) -> None:
        self.problems = problems
        self.hint = hint
        super().__init__("\n".join([*problems, *([hint] if hint else [])]))


def dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        # A name that would not read as one (empty, a line break) is quoted.
        name = str(part) if str(part) and str(part).isprintable() else repr(str(part))
        text += f".{name}" if text else name
    return text or "(top level)"


@dataclass
class Source:
    """Parsed YAML data and the location of every mapping key and value in it."""

    data: dict[str, Any]
    locations: dict[FieldPath, Location]
    files: tuple[Path, ...]

    def where(self, path: FieldPath) -> str:
        """The closest known location of a field path (a missing field's parent)."""
        found = self._closest(path)
        return str(found[0]) if found else str(self.files[-1])

    def _closest(self, path: FieldPath) -> tuple[Location, int] | None:
        for end in range(len(path), -1, -1):
            location = self.locations.get(tuple(path[:end]))
            if location is not None:
                return location, end
        return None

    def error(self, path: FieldPath, message: str) -> str:
        found = self._closest(path)
        if found is not None:
            location, end = found
            if location.json_path is not None:  # the place in the JSON, as the JSON names it
                return f"{location}: {dotted((*location.json_path, *path[end:]))}: {message}"
        return f"{self.where(path)}: {dotted(path)}: {message}"


def load_file(path: Path) -> Source:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{path}:{line}: not valid YAML: {problem}"]) from None
    if node is None:
        return Source({}, {}, (path,))
    locations: dict[FieldPath, Location] = {}
    problems: list[str] = []
    data = _construct(node, (), path, locations, problems)
    if problems:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError([f"{path}:1: the file must be a mapping of settings"])
    return Source(data, locations, (path,))


def _construct(node: yaml.Node, path: FieldPath, file: Path,
               locations: dict[FieldPath, Location], problems: list[str]) -> Any:
    locations.setdefault(path, Location(file, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(f"{file}:{key_node.start_mark.line + 1}: {dotted(path)}: "
                                "keys must be plain names")
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                problems.append(f"{file}:{key_node.start_mark.line + 1}: {dotted(child)}: "
                                "appears twice in the same mapping")
                continue
            locations[child] = Location(file, key_node.start_mark.line + 1)
            result[key] = _construct(value_node, child, file, locations, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, index), file, locations, problems)
                for index, item in enumerate(node.value)]
    return _SCALARS.construct_object(node, deep=True)


# Turns scalar nodes into str, int, float, bool or None the way yaml.safe_load does.
_SCALARS = yaml.SafeLoader("")


def merge(base: Source, overlay: Source) -> Source:
    """Overlay over base: mappings merge key by key, anything else replaces."""
    locations = dict(base.locations)

    def walk(into: Any, over: Any, path: FieldPath) -> Any:
        if isinstance(into, dict) and isinstance(over, dict):
            merged = dict(into)
            for key, value in over.items():
                merged[key] = walk(into.get(key), value, (*path, key))
            return merged
        for known in [p for p in locations if p[: len(path)] == path and len(p) > len(path)]:
            del locations[known]
        locations.update({p: loc for p, loc in overlay.locations.items()
                          if p[: len(path)] == path})
        return over

    data = walk(base.data, overlay.data, ())
    for p, loc in overlay.locations.items():
        locations.setdefault(p, loc)
    return Source(data, locations, (*base.files, *overlay.files))


def load(paths: list[Path]) -> Source:
    """The base file, then each overlay in order."""
    source = load_file(paths[0])
    for overlay in paths[1:]:
        source = merge(source, load_file(overlay))
    return source
