"""Reading the project's YAML data files, with errors that say which file and line is wrong.

Every mapping key must be text: YAML reads an unquoted `false:`, `no:` or `2019:` as a boolean or
a number, which would silently change what an entry means, so such a key is refused with its
line, as is a key given twice (YAML would silently keep only the last).
"""

from __future__ import annotations

from pathlib import Path

import yaml

TEXT = "tag:yaml.org,2002:str"


class CorpusError(ValueError):
    """A source file or a data file cannot be used; the message says where."""


class Mapping(dict):
    """A YAML mapping that remembers the line each of its keys is on."""

    def __init__(self):
        super().__init__()
        self.lines: dict = {}


class _Loader(yaml.SafeLoader):
    path: Path


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    mapping = Mapping()
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag != TEXT:
            raise CorpusError(
                f"{loader.path}:{line}: the key {key_node.value!r} is not text (YAML reads it as "
                "a boolean or a number); put it in quotes"
            )
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise CorpusError(
                f"{loader.path}:{line}: {key!r} is given twice (first on line {mapping.lines[key]})"
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path):
    """The file's data; mappings are `Mapping`s. A missing file, text that is not YAML, a key that
    is not text or a repeated key raises CorpusError naming the file and line."""
    if not path.exists():
        raise CorpusError(f"{path}: file is missing")
    loader = _Loader(path.read_text(encoding="utf-8"))
    loader.path = path
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise CorpusError(f"{where}: not valid YAML: {error}") from error
    finally:
        loader.dispose()


def line_of(data, key) -> str:
    """':<line>' for a key of a mapping read by read_yaml, for error messages."""
    line = getattr(data, "lines", {}).get(key)
    return f":{line}" if line else ""
