"""The API's JSON parser: what PostgreSQL or Python cannot hold is refused with a 400 naming where it is.

- NUL characters (PostgreSQL's text and jsonb cannot store them);
- lone surrogates ("\\ud800" alone is valid JSON but no character, and cannot be encoded);
- nesting deeper than MAX_DEPTH (no field of the API nests more than a few levels; Python's parser itself
  gives up with a RecursionError a little further).
"""

import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not a character"
    return None


def _where(path: tuple) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else (f".{part}" if index else part)
                   for index, part in enumerate(path)) or "the body"  # fmt: skip


def check_json_value(data) -> None:
    """Walk the parsed value without recursion and refuse what cannot be stored."""
    stack = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels at {_where(path)}.")
        if isinstance(value, str):
            problem = _problem(value)
            if problem:
                raise ParseError(f"JSON parse error - the text at {_where(path)} {problem}.")
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _problem(key)
                if problem:
                    raise ParseError(f"JSON parse error - a key in {_where(path)} {problem}.")
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, (*path, index), depth + 1) for index, item in enumerate(value))


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}")
        check_json_value(data)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
