"""Responses written fast from the same marshmallow schemas that generate the spec.

marshmallow's `dump` decides, for every field of every object, how to read and convert it; on a
page of 50 programs that is most of the request. `dumper(schema)` makes those decisions once per
schema instance: a plan of (output key, attribute, converter) whose converters are the fields' own
conversions, written out for the field types the hub uses and delegated to the field for any other
(a custom `_serialize`, a Method field), so the output is marshmallow's by construction.
`CHECK_AGAINST_MARSHMALLOW` makes every dump also run marshmallow's and fail on any difference;
the tests turn it on across the demo network.

`OrjsonProvider` writes Flask's JSON with orjson: sorted keys and the trailing newline as Flask's
own provider, and Flask's conversions for anything orjson does not know.
"""

from __future__ import annotations

from typing import Any, Callable

import marshmallow as ma
import orjson
from flask.json.provider import DefaultJSONProvider
from marshmallow import missing
from marshmallow.utils import get_value

CHECK_AGAINST_MARSHMALLOW = False

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _converter(field: Any) -> Converter | None:
    """How `field` turns a value other than None into JSON-ready data (every field here turns None
    into None), when it is one of the conversions written out here; None for any other field (it
    then converts values itself)."""
    kind = type(field)._serialize
    fields = ma.fields
    if kind is fields.String._serialize or kind is fields.UUID._serialize:
        return str
    if kind is fields.Number._serialize and not field.as_string:
        return field.num_type
    if kind is fields.Boolean._serialize:
        return bool
    if kind is fields.Raw._serialize:
        return _identity
    if kind is fields.DateTime._serialize:
        return field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    if kind is fields.Enum._serialize and type(field.field) is fields.Raw:
        return (lambda member: member.value) if field.by_value else (lambda member: member.name)
    if kind is fields.Mapping._serialize and field.key_field is None and field.value_field is None:
        return field.mapping_type
    if kind is fields.List._serialize:
        inner = _converter(field.inner)
        if inner is None:
            inner_field = field.inner
            return lambda items: [inner_field._serialize(item, None, None) for item in items]
        return lambda items: [None if item is None else inner(item) for item in items]
    if kind is fields.Nested._serialize and isinstance(field.nested, (type, ma.Schema)) and not field.only and not field.exclude:
        nested = dumper(field.schema)
        many = field.schema.many or field.many
        return lambda value: nested(value, many=many)
    return None


def _plan(schema: ma.Schema) -> tuple[list[tuple[str, str, Converter, Any]], list[tuple[str, str, ma.fields.Field]]]:
    """(fields converted here: key, attribute, converter, default), (fields that convert
    themselves: key, attribute, field)."""
    converted, delegated = [], []
    for name, field in schema.dump_fields.items():
        source = field.attribute or name
        convert = _converter(field) if field._CHECK_ATTRIBUTE and "." not in source else None
        if convert is None:
            delegated.append((field.data_key or name, source, field))
        else:
            converted.append((field.data_key or name, source, convert, field.dump_default))
    return converted, delegated


def dumper(schema: ma.Schema) -> Callable[..., Any]:
    """The compiled `schema.dump(obj, many=...)`, built on first use and kept on the schema."""
    compiled = schema.__dict__.get("_compiled_dump")
    if compiled is not None:
        return compiled
    converted, delegated = _plan(schema)
    pre_dump, post_dump = schema._hooks["pre_dump"], schema._hooks["post_dump"]

    def dump_one(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        read: Callable[[str, Any], Any]
        if isinstance(obj, dict):
            read = obj.get
        elif hasattr(type(obj), "__getitem__"):  # as marshmallow: a real mapping or sequence, not a proxy
            read = lambda source, default: get_value(obj, source, default)  # noqa: E731
        else:
            read = lambda source, default: getattr(obj, source, default)  # noqa: E731
        for key, source, convert, default in converted:
            value = read(source, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = None if value is None else convert(value)
        for key, source, field in delegated:
            value = field.serialize(source, obj, accessor=schema.get_attribute)
            if value is not missing:
                out[key] = value
        return out

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        many = schema.many if many is None else bool(many)
        source = schema._invoke_dump_processors("pre_dump", obj, many=many, original_data=obj) if pre_dump else obj
        if many:
            result: Any = None if source is None else [dump_one(item) for item in source]
        else:
            result = dump_one(source)
        if post_dump:
            result = schema._invoke_dump_processors("post_dump", result, many=many, original_data=obj)
        return result

    schema.__dict__["_compiled_dump"] = dump
    return dump


def dump(schema: ma.Schema, obj: Any, *, many: bool | None = None) -> Any:
    result = dumper(schema)(obj, many=many)
    if CHECK_AGAINST_MARSHMALLOW:
        expected = ma.Schema.dump(schema, obj, many=many)
        if _json(result) != _json(expected):
            raise AssertionError(f"{type(schema).__name__}: compiled dump {result!r} != marshmallow's {expected!r}")
    return result


def _flask_default(value: Any) -> Any:
    return DefaultJSONProvider.default(value)


def _json(value: Any, *, sort_keys: bool = True) -> bytes:
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    return orjson.dumps(value, default=_flask_default, option=options | (orjson.OPT_SORT_KEYS if sort_keys else 0))


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, encoding with orjson. Dates and dataclasses pass through to Flask's
    own conversion (dates as HTTP dates), so nothing a view returns changes meaning; orjson writes
    UUIDs and enums as Flask does."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.get("indent") or kwargs.get("cls"):
            return super().dumps(obj, **kwargs)
        return _json(obj, sort_keys=kwargs.get("sort_keys", self.sort_keys)).decode()

    def response(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._prepare_response_obj(args, kwargs)
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(obj)
        body = _json(obj, sort_keys=self.sort_keys) + b"\n"
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]  # bytes are a body
