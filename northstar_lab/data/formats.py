"""Exports from the tools analysts already use: recognise the format, map it to an event log.

Each vendor's export becomes the plain event log the rest of the library reads — `user_id`,
`timestamp`, `event` and (when the export carries revenue) `value` — as Ibis expressions in the
engine that holds the file (DuckDB's `read_json` / `read_parquet` / `read_csv`, no row loops):

- **Amplitude** export (a zip of gzipped JSON lines, or its unzipped folder): `event_type`,
  `event_time` (UTC text), people by `user_id` / `amplitude_id`, revenue from a top-level
  `revenue` or `event_properties` (`$revenue`, `revenue`, …);
- **Mixpanel** raw export (JSON lines of `{"event", "properties"}`): `properties.time` in epoch
  seconds or milliseconds (detected), `distinct_id`, `$user_id` / `$device_id`, duplicates
  removed by `$insert_id` as Mixpanel itself does;
- **PostHog** event export (CSV or Parquet): `event`, `timestamp`, `distinct_id` (or
  `person_id`), revenue from `properties` (JSON text);
- **Segment / RudderStack** warehouse `tracks` table (Parquet or a DuckDB table): `event`,
  `timestamp` (or `original_timestamp`), `user_id` / `anonymous_id`;
- **GA4 BigQuery export** (Parquet or JSON): `event_name`, `event_timestamp` (µs, detected),
  `user_id` / `user_pseudo_id`, revenue from `ecommerce.purchase_revenue` or the `value` event
  parameter.

What was recognised, how time was read (its epoch unit) and how people were identified
(METHODS §1.6) are stated in a `FormatReport` that goes into the data's fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from ..errors import InputError
from .calendar import PER_SECOND, UNIT_WORDS, epoch_unit

#: Event properties that carry an amount, first match wins. Only the revenue event's value is
#: ever used (METHODS §1.4), so a `price` on other events does no harm.
REVENUE_PROPERTIES = ("$revenue", "revenue", "Revenue", "amount", "Amount", "$amount",
                      "price", "Price", "$price", "value", "Value")  # fmt: skip


@dataclass(frozen=True)
class ExportFormat:
    """A vendor export North Star Lab reads: its key, title, one line for the import list,
    what to give, and which columns recognise it."""

    name: str
    title: str
    description: str
    give: str
    signature: tuple[str, ...]


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "amplitude", "Amplitude", "Amplitude Export API download: a zip of gzipped JSON lines.",
            "the .zip the Export API returns, or its unzipped folder of .json.gz files",
            ("event_type", "amplitude_id"),
        ),
        ExportFormat(
            "mixpanel", "Mixpanel", "Mixpanel raw event export: JSON lines of event + properties.",
            "the JSON lines file (.json, .jsonl, .json.gz) from the raw export API",
            ("event", "properties"),
        ),
        ExportFormat(
            "posthog", "PostHog", "PostHog event export: CSV or Parquet with distinct_id.",
            "the CSV or Parquet export of the events table",
            ("event", "distinct_id", "timestamp"),
        ),
        ExportFormat(
            "segment", "Segment / RudderStack", "Warehouse `tracks` table: user_id / anonymous_id.",
            "the tracks table as Parquet, or the tracks table of a DuckDB database",
            ("event", "anonymous_id"),
        ),
        ExportFormat(
            "ga4", "Google Analytics 4", "GA4 BigQuery export (events_*) as Parquet or JSON.",
            "the events_* table exported from BigQuery as Parquet or newline-delimited JSON",
            ("event_name", "event_timestamp", "user_pseudo_id"),
        ),
    )
}  # fmt: skip

#: Recognition order: the most specific signatures first (a Segment table also has `event`).
RECOGNITION_ORDER = ("amplitude", "ga4", "segment", "posthog", "mixpanel")


@dataclass
class FormatReport:
    """What was recognised and how it was read, in sentences for people (and the record)."""

    name: str
    title: str
    recognised: bool  # True when recognised from the columns, False when asked for
    time: str  # how the timestamp was read, with the epoch unit when there was one
    identity: str  # who a "user" is, in one sentence
    duplicates_removed: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FormatReport:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in names})

    def sentences(self) -> list[str]:
        """The report as lines to show: format, time, identity, then notes."""
        how = "recognised" if self.recognised else "read as asked"
        return [f"{self.title} export {how}.", self.time, self.identity, *self.notes]


def import_options() -> list[ExportFormat]:
    """The formats for an "Import from…" list, in a stable order."""
    return [FORMATS[n] for n in ("amplitude", "mixpanel", "posthog", "segment", "ga4")]


def recognised_format(source_text: str, table: str | None = None) -> ExportFormat | None:
    """The vendor export a file (or a database table) is, from its columns; None for a plain
    event log. Reads only the schema (for the Data page's "Import from…" choice)."""
    from .sources import peek_columns

    name = recognise(peek_columns(source_text, table, event_format="plain"))
    return FORMATS[name] if name else None


def recognise(columns: Iterable[str]) -> str | None:
    """The format whose signature columns are all present, or None for a plain event log.

    Mixpanel's raw export has exactly two top-level keys (event, properties), so a file with a
    timestamp or user column beside them is not taken for one.
    """
    cols = {str(c).strip().lower() for c in columns}
    for name in RECOGNITION_ORDER:
        if set(FORMATS[name].signature) <= cols:
            if name == "mixpanel" and cols & {"timestamp", "time", "user_id", "distinct_id"}:
                continue
            return name
    return None


def check_format_name(name: str | None) -> str | None:
    """A requested format name, lower-cased; 'plain' and None mean no vendor format."""
    if name is None or str(name).strip().lower() in ("", "plain", "auto"):
        return None
    key = str(name).strip().lower()
    if key not in FORMATS:
        raise InputError(
            f"Unknown export format '{name}'. Use one of: {', '.join(FORMATS)} (or leave it "
            "out to recognise it from the columns)."
        )
    return key


def json_columns(name: str) -> dict[str, str] | None:
    """DuckDB column types for reading a JSON export of `name` (None: read it as detected).

    Nested objects are read as JSON and opened with `_field`; ids are read as text, so a number
    and a string id read the same; GA4's nested records get their documented types (BigQuery
    writes INT64 as JSON strings, which these types convert).
    """
    if name == "amplitude":
        text = ("user_id", "amplitude_id", "event_type", "event_time", "revenue")
        return {**{c: "VARCHAR" for c in text}, "event_properties": "JSON"}
    if name == "mixpanel":
        return {"event": "VARCHAR", "properties": "JSON"}
    if name == "ga4":
        value = "STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, " \
                "double_value DOUBLE)"  # fmt: skip
        return {
            "event_name": "VARCHAR", "event_timestamp": "BIGINT", "user_id": "VARCHAR",
            "user_pseudo_id": "VARCHAR", "event_params": f"STRUCT(key VARCHAR, value {value})[]",
            "ecommerce": "STRUCT(purchase_revenue DOUBLE, purchase_revenue_in_usd DOUBLE)",
        }  # fmt: skip
    return None


def event_log_from_export(
    table: ibis.Table, name: str, label: str, *, recognised: bool
) -> tuple[ibis.Table, FormatReport]:
    """The export as a plain event log (user_id, timestamp, event[, value]) and its report."""
    cols = {c.lower(): c for c in table.columns}
    mapper = MAPPERS[name]
    missing = [c for c in _required(name) if c not in cols]
    if missing:
        raise InputError(
            f"{label}: read as a {FORMATS[name].title} export, but column "
            f"{', '.join(repr(c) for c in missing)} is missing. Give {FORMATS[name].give}, or "
            "leave the format out to read it as a plain event log."
        )
    t = table.rename({c: orig for c, orig in cols.items() if c != orig})
    events, report = mapper(t, label)
    report.recognised = recognised
    # Materialised once in the engine (a DuckDB temp table, spilling to disk): every later scan
    # reads four columns instead of re-parsing JSON and re-joining identities.
    return events.cache(), report


def has_value(name: str, columns: Iterable[str]) -> bool:
    """Whether the export carries amounts (so the event log gets a `value` column)."""
    cols = {str(c).lower() for c in columns}
    sources = {"amplitude": {"revenue", "event_properties"}, "mixpanel": {"properties"},
               "posthog": {"properties"}, "segment": {"revenue"},
               "ga4": {"ecommerce", "event_params"}}[name]  # fmt: skip
    return bool(cols & sources)


def output_columns(name: str, columns: Iterable[str]) -> list[str]:
    """The columns of the event log an export becomes (for a column-mapping step)."""
    return ["user_id", "timestamp", "event"] + (["value"] if has_value(name, columns) else [])


def _required(name: str) -> tuple[str, ...]:
    return {"amplitude": ("event_type", "event_time", "amplitude_id"),
            "mixpanel": ("event", "properties"),
            "posthog": ("event", "distinct_id", "timestamp"),
            "segment": ("event", "anonymous_id"),
            "ga4": ("event_name", "event_timestamp", "user_pseudo_id")}[name]  # fmt: skip


# --- the pieces every mapper uses ------------------------------------------------------------


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_extract_string(doc: str, path: str) -> str:
    """DuckDB's json_extract_string: the value at a JSON path as text (NULL when absent)."""


def _field(col: ibis.Value, key: str) -> ibis.Value:
    """A nested property as text, however the engine holds the object: a struct (Parquet), a
    map, JSON or JSON text (CSV). Keys may start with '$' ('$insert_id'), so the JSON path
    quotes them."""
    t = col.type()
    if t.is_struct():
        return col[key].cast("string") if key in t.names else ibis.null("string")
    if t.is_map():
        return col.get(key).cast("string")
    return _json_extract_string(col.cast("string"), '$."' + key.replace('"', '\\"') + '"')


def _number(col: ibis.Value) -> ibis.Value:
    """Text or a number as float64; anything else NULL."""
    return col.cast("float64") if col.type().is_numeric() else col.try_cast("float64")


def _amount(props: ibis.Value, keys: Iterable[str] = REVENUE_PROPERTIES) -> ibis.Value:
    """The first revenue-like property present, as float64."""
    return ibis.coalesce(*[_number(_field(props, k)) for k in keys])


def epoch_to_timestamp(col: ibis.Value, unit: str) -> ibis.Value:
    """Unix time in `unit` as a timestamp, to the whole second (every figure is computed in
    whole seconds; and whole seconds are what both DuckDB and Spark convert)."""
    if not col.type().is_integer():
        col = col.floor().cast("int64")
    if unit != "s":
        # integer arithmetic: a double cannot hold 19 digits of nanoseconds, and not every
        # engine compiles `//` on integers without a detour through doubles
        per_second = PER_SECOND[unit]
        col = ((col - col % per_second) / per_second).cast("int64")
    return col.as_timestamp("s")


def _epoch_time(col: ibis.Value, what: str) -> tuple[ibis.Value, str]:
    """An epoch column as a timestamp, and the sentence that states its detected unit."""
    biggest = col.abs().max().to_pandas()
    biggest = 0.0 if biggest is None or pd.isna(biggest) else float(biggest)
    unit = epoch_unit(biggest)
    sentence = (
        f"Time: {what} read as Unix time in {UNIT_WORDS[unit]} (UTC; unit detected from the "
        f"largest value, {biggest:.4g})."
    )
    return epoch_to_timestamp(_number(col), unit), sentence


def _text_time(col: ibis.Value) -> ibis.Value:
    """Text or a timestamp as a UTC timestamp; an offset such as +02:00 is honoured."""
    if col.type().is_timestamp():
        return col
    return col.cast("string").try_cast(dt.Timestamp(timezone="UTC"))


def resolve_identity(
    t: ibis.Table, known: ibis.Value, anonymous: ibis.Value, fallback: ibis.Value | None = None
) -> tuple[ibis.Table, ibis.Value]:
    """The table joined to its identity links, and the person id: the known id where the row
    has one; else the known id that the row's anonymous id was ever seen with (events before
    login are the same person's); else `fallback` (default: the anonymous id). One group-by
    and one join, in the engine.

    An anonymous id seen with several known ids (a shared device) goes to the smallest one.
    """
    fallback = anonymous if fallback is None else fallback
    t = t.mutate(
        _known=known.cast("string"), _anon=anonymous.cast("string"), _other=fallback.cast("string")
    )
    seen = t.filter(t._known.notnull() & t._anon.notnull())
    links = seen.group_by(_link_anon=seen._anon).aggregate(_linked=seen._known.min())
    joined = t.left_join(links, t._anon == links._link_anon)
    person = ibis.coalesce(joined._known, joined._linked, joined._other)
    return joined, person


def _identity_sentence(
    t: ibis.Table, known: str, anonymous: str, fallback: str | None = None
) -> str:
    """Who a user is, with how many events each rule covered (one aggregate in the engine)."""
    stats = (
        t.aggregate(
            direct=t._known.notnull().sum(),
            linked=(t._known.isnull() & t._linked.notnull()).sum(),
            anon=(t._known.isnull() & t._linked.isnull() & t._other.notnull()).sum(),
        )
        .to_pandas()
        .iloc[0]
    )
    n = {k: 0 if pd.isna(v) else int(v) for k, v in stats.items()}
    return (
        f"Identity: a user is their {known} ({n['direct']:,} events carry one); "
        f"{n['linked']:,} events without one are credited to the {known} their {anonymous} was "
        f"seen with (events before login); the other {n['anon']:,} events are users by their "
        f"{fallback or anonymous}."
    )


def _events(user: ibis.Value, ts: ibis.Value, event: ibis.Value, value=None) -> dict:
    """The event log's columns; `value` only when the export carries amounts (`has_value`)."""
    out = {"user_id": user.cast("string"), "timestamp": ts, "event": event.cast("string")}
    if value is not None:
        out["value"] = value.cast("float64")
    return out


def _value_or_none(name: str, t: ibis.Table, values: list[ibis.Value]) -> ibis.Value | None:
    """The first amount present among `values`, NULL when none exists; None when the export
    carries no amounts at all."""
    if not has_value(name, t.columns):
        return None
    return ibis.coalesce(*values) if values else ibis.null("float64")


# --- one mapper per format --------------------------------------------------------------------


def _amplitude(t: ibis.Table, label: str) -> tuple[ibis.Table, FormatReport]:
    values = [_number(t.revenue)] if "revenue" in t.columns else []
    if "event_properties" in t.columns:
        values.append(_amount(t.event_properties))
    value = _value_or_none("amplitude", t, values)
    t = t.mutate(_value=value if value is not None else ibis.null("float64"))
    known = t.user_id if "user_id" in t.columns else ibis.null("string")
    joined, person = resolve_identity(t, known, t.amplitude_id)
    value = joined._value if value is not None else None
    out = joined.select(**_events(person, _text_time(joined.event_time), joined.event_type, value))
    return out, FormatReport(
        "amplitude", FORMATS["amplitude"].title, True,
        "Time: event_time read as UTC text (Amplitude exports UTC).",
        _identity_sentence(joined, "user_id", "amplitude_id"),
    )  # fmt: skip


def _mixpanel(t: ibis.Table, label: str) -> tuple[ibis.Table, FormatReport]:
    p = t.properties
    base = t.select(
        event=t.event,
        _time=_number(_field(p, "time")),
        _distinct=_field(p, "distinct_id"),
        _user=_field(p, "$user_id"),
        _device=_field(p, "$device_id"),
        _insert=_field(p, "$insert_id"),
        _value=_amount(p),
    ).cache()  # properties are parsed once, not once per count below
    n_before = int(base.count().to_pandas())
    keyed = base.filter(base._insert.notnull()).distinct(
        on=["event", "_distinct", "_time", "_insert"], keep="first"
    )
    base = keyed.union(base.filter(base._insert.isnull()))
    removed = n_before - int(base.count().to_pandas())
    ts, time_sentence = _epoch_time(base._time, "properties.time")
    base = base.mutate(_ts=ts)
    joined, person = resolve_identity(base, base._user, base._device, base._distinct)
    out = joined.select(**_events(person, joined._ts, joined.event, joined._value))
    notes = [f"{removed:,} duplicate events (same event, distinct_id, time and $insert_id) "
             "were removed, as Mixpanel does."] if removed else []  # fmt: skip
    identity = _identity_sentence(joined, "$user_id", "$device_id", "distinct_id")
    return out, FormatReport("mixpanel", FORMATS["mixpanel"].title, True, time_sentence,
                             identity, removed, notes)  # fmt: skip


def _posthog(t: ibis.Table, label: str) -> tuple[ibis.Table, FormatReport]:
    value = _amount(t.properties) if "properties" in t.columns else None
    if "person_id" in t.columns:
        person = t.person_id.cast("string").coalesce(t.distinct_id.cast("string"))
        identity = (
            "Identity: a user is PostHog's person_id (it joins a person's anonymous and "
            "identified distinct_ids); rows without one use their distinct_id."
        )
    else:
        person = t.distinct_id
        identity = (
            "Identity: a user is the distinct_id as exported (the export has no person_id, so "
            "anonymous ids that later identified count separately)."
        )
    out = t.select(**_events(person, _text_time(t.timestamp), t.event, value))
    time = "Time: timestamp read as UTC (offsets honoured)."
    return out, FormatReport("posthog", FORMATS["posthog"].title, True, time, identity)


def _segment(t: ibis.Table, label: str) -> tuple[ibis.Table, FormatReport]:
    ts_col = "timestamp" if "timestamp" in t.columns else "original_timestamp"
    if ts_col not in t.columns:
        raise InputError(
            f"{label}: a Segment/RudderStack tracks table needs a 'timestamp' or "
            "'original_timestamp' column; neither is there."
        )
    known = t.user_id if "user_id" in t.columns else ibis.null("string")
    joined, person = resolve_identity(t, known, t.anonymous_id)
    value = _value_or_none(
        "segment", joined, [_number(joined.revenue)] if "revenue" in t.columns else []
    )
    out = joined.select(**_events(person, _text_time(joined[ts_col]), joined.event, value))
    time = f"Time: {ts_col} read as UTC (offsets honoured)."
    identity = _identity_sentence(joined, "user_id", "anonymous_id")
    return out, FormatReport("segment", FORMATS["segment"].title, True, time, identity)


def _ga4_param(params: ibis.Value, key: str) -> ibis.Value:
    """A GA4 event parameter's number (double, float or int value), NULL when absent."""
    v = params.filter(lambda p: p.key == key)[0].value
    return ibis.coalesce(v.double_value, v.float_value, v.int_value.cast("float64"))


def _ga4(t: ibis.Table, label: str) -> tuple[ibis.Table, FormatReport]:
    values = []
    if "ecommerce" in t.columns and "purchase_revenue" in t.ecommerce.type().names:
        values.append(t.ecommerce.purchase_revenue.cast("float64"))
    if "event_params" in t.columns:
        values.append(_ga4_param(t.event_params, "value"))
    ts, time_sentence = _epoch_time(t.event_timestamp, "event_timestamp")
    value = _value_or_none("ga4", t, values)
    t = t.mutate(_ts=ts, _value=value if value is not None else ibis.null("float64"))
    known = t.user_id if "user_id" in t.columns else ibis.null("string")
    joined, person = resolve_identity(t, known, t.user_pseudo_id)
    value = joined._value if value is not None else None
    out = joined.select(**_events(person, joined._ts, joined.event_name, value))
    identity = _identity_sentence(joined, "user_id", "user_pseudo_id")
    return out, FormatReport("ga4", FORMATS["ga4"].title, True, time_sentence, identity)


MAPPERS: dict[str, Callable[[ibis.Table, str], tuple[ibis.Table, FormatReport]]] = {
    "amplitude": _amplitude,
    "mixpanel": _mixpanel,
    "posthog": _posthog,
    "segment": _segment,
    "ga4": _ga4,
}
