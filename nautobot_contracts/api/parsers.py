"""Request body parsers: JSON with a bound on nesting depth."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No app body nests deeper than a few levels (custom field values are the deepest); 32 leaves ample room while
# keeping every later recursive walk (validation, change logging, webhooks) far from Python's recursion limit.
MAX_JSON_DEPTH = 32


def json_depth(data):
    """How deeply `data` nests lists and objects (a scalar is 0), counted without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_JSON_DEPTH with a 400.

    Python's json module raises RecursionError (not a ValueError, so DRF answers 500) past about a thousand levels.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        """Parse, then measure the depth."""
        too_deep = ParseError(f"JSON parse error - the body nests too deep (at most {MAX_JSON_DEPTH} levels).")
        try:
            data = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise too_deep
        return data


def bounded_parsers(parsers):
    """`parsers` with every plain JSONParser replaced by a BoundedJSONParser (other parsers kept as they are)."""
    return [BoundedJSONParser() if type(parser) is JSONParser else parser for parser in parsers]  # noqa: E721
