#!/usr/bin/env python3
"""Translate a Dawarich ``db/schema.rb`` (stdin) into PostgreSQL DDL (stdout).

The output is meant to produce the same catalog as ``rails db:schema:load`` with
the Rails 7.1-8.0 PostgreSQL adapter plus activerecord-postgis-adapter: same
tables, column types/defaults/nullability/comments, primary keys, sequences,
indexes, check constraints and foreign keys (including Rails' generated
``fk_rails_<sha256[:10]>`` names).  Type names are written in PostgreSQL's
canonical spelling (e.g. ``double precision`` where Rails sends ``float``);
that does not change the catalog.

Objects are emitted as: extensions, tables (+ comments), check constraints,
indexes, foreign keys, then the Rails bookkeeping tables ``schema_migrations``
and ``ar_internal_metadata`` (omit them with ``--no-internal``).
``--data-migrations`` additionally emits ``data_migrations`` when schema.rb does
not define it (the data_migrate gem creates it on the first ``data:migrate``).
``--header`` prints only ``Schema[x] <define version>``.

Only the Ruby subset that Rails' schema dumper writes is understood; anything
else aborts with an error rather than being guessed.
"""

import hashlib
import json
import re
import sys

# --------------------------------------------------------------------------
# Tokenizer for the Ruby subset used by schema.rb


class Sym(str):
    """A Ruby symbol (:foo)."""


class Label(str):
    """A hash/keyword label (foo:)."""


class Lambda:
    """``-> { "sql" }`` default: raw SQL expression."""

    def __init__(self, sql):
        self.sql = sql

    def __repr__(self):
        return "Lambda(%r)" % self.sql


NIL = object()

_RUBY_DQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "s": " ",
                    "e": "\x1b", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def tokenize(src):
    toks = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            toks.append(("NL", None))
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c == '"':
            i += 1
            buf = []
            while src[i] != '"':
                if src[i] == "\\":
                    e = src[i + 1]
                    if e == "u":
                        if src[i + 2] == "{":
                            j = src.index("}", i)
                            buf.append(chr(int(src[i + 3:j], 16)))
                            i = j + 1
                        else:
                            buf.append(chr(int(src[i + 2:i + 6], 16)))
                            i += 6
                        continue
                    buf.append(_RUBY_DQ_ESCAPES.get(e, e))
                    i += 2
                elif src.startswith("#{", i):
                    raise SyntaxError("string interpolation not supported")
                else:
                    buf.append(src[i])
                    i += 1
            toks.append(("STR", "".join(buf)))
            i += 1
        elif c == "'":
            i += 1
            buf = []
            while src[i] != "'":
                if src[i] == "\\" and src[i + 1] in "\\'":
                    buf.append(src[i + 1])
                    i += 2
                else:
                    buf.append(src[i])
                    i += 1
            toks.append(("STR", "".join(buf)))
            i += 1
        elif src.startswith("%w", i) or src.startswith("%i", i):
            kind = src[i + 1]
            close = {"[": "]", "(": ")", "{": "}", "<": ">"}[src[i + 2]]
            j = src.index(close, i + 3)
            words = src[i + 3:j].split()
            toks.append(("WORDS", [Sym(w) if kind == "i" else w for w in words]))
            i = j + 1
        elif src.startswith("=>", i):
            toks.append(("=>", None))
            i += 2
        elif src.startswith("->", i):
            toks.append(("->", None))
            i += 2
        elif c == ":" and i + 1 < n and src[i + 1] == '"':
            toks.append(("SYMSTR", None))  # :"foo" -> handled by parser
            i += 1
        elif c == ":" and i + 1 < n and (src[i + 1].isalpha() or src[i + 1] == "_"):
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[?!]?").match(src, i + 1)
            toks.append(("SYM", Sym(m.group())))
            i = m.end()
        elif c.isdigit() or (c == "-" and src[i + 1].isdigit()):
            m = re.compile(r"-?[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][-+]?[0-9]+)?").match(src, i)
            txt = m.group().replace("_", "")
            toks.append(("NUM", float(txt) if ("." in txt or "e" in txt.lower()) else int(txt)))
            i = m.end()
        elif c.isalpha() or c == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*[?!]?").match(src, i)
            word = m.group()
            i = m.end()
            if i < n and src[i] == ":" and not src.startswith("::", i):
                toks.append(("LABEL", Label(word)))
                i += 1
            else:
                toks.append(("ID", word))
        elif c in "[]{}(),|.":
            toks.append((c, None))
            i += 1
        else:
            raise SyntaxError("unexpected character %r at offset %d" % (c, i))
    toks.append(("NL", None))
    return toks


class Parser:
    def __init__(self, toks):
        self.toks = toks
        self.pos = 0

    def peek(self, k=0):
        return self.toks[self.pos + k]

    def next(self):
        t = self.toks[self.pos]
        self.pos += 1
        return t

    def expect(self, kind):
        t = self.next()
        if t[0] != kind:
            raise SyntaxError("expected %s, got %r" % (kind, t))
        return t

    def skip_nl(self):
        while self.peek()[0] == "NL":
            self.pos += 1

    def value(self):
        self.skip_nl()
        kind, v = self.next()
        if kind in ("STR", "NUM", "SYM", "WORDS"):
            return v
        if kind == "SYMSTR":
            return Sym(self.expect("STR")[1])
        if kind == "ID":
            if v == "true":
                return True
            if v == "false":
                return False
            if v == "nil":
                return NIL
            raise SyntaxError("unexpected identifier %r" % v)
        if kind == "[":
            items = []
            self.skip_nl()
            while self.peek()[0] != "]":
                items.append(self.value())
                self.skip_nl()
                if self.peek()[0] == ",":
                    self.next()
                    self.skip_nl()
            self.next()
            return items
        if kind == "{":
            return self.hash_body("}")
        if kind == "->":
            self.skip_nl()
            self.expect("{")
            self.skip_nl()
            sql = self.value()
            self.skip_nl()
            self.expect("}")
            return Lambda(sql)
        raise SyntaxError("unexpected token %r" % ((kind, v),))

    def hash_body(self, close):
        out = {}
        self.skip_nl()
        while self.peek()[0] != close:
            kind, v = self.peek()
            if kind == "LABEL":
                self.next()
                key = Sym(v)
            else:
                key = self.value()
                self.skip_nl()
                self.expect("=>")
            out[key] = self.value()
            self.skip_nl()
            if self.peek()[0] == ",":
                self.next()
                self.skip_nl()
        self.next()
        return out

    def call_args(self):
        """Arguments up to end of statement (newline not after a comma)."""
        args, kw = [], {}
        paren = False
        if self.peek()[0] == "(":
            self.next()
            paren = True
        while True:
            kind, v = self.peek()
            if kind == "NL" and not paren:
                break
            if paren and kind == ")":
                self.next()
                break
            if kind == "ID" and v == "do":
                break
            if kind == "LABEL":
                self.next()
                kw[v] = self.value()
            else:
                args.append(self.value())
            kind = self.peek()[0]
            if kind == ",":
                self.next()
                self.skip_nl()  # trailing comma continues the statement
            elif paren:
                self.skip_nl()
        return args, kw

    def statements(self):
        """Yield (name, args, kwargs, block_or_None) for the define block."""
        out = []
        stack = [out]
        while self.pos < len(self.toks):
            kind, v = self.peek()
            if kind == "NL":
                self.next()
                continue
            if kind == "ID" and v == "end":
                self.next()
                stack.pop()
                if not stack:
                    break
                continue
            if kind != "ID":
                raise SyntaxError("unexpected token %r" % ((kind, v),))
            self.next()
            name = v
            if name.endswith("Schema") and self.peek()[0] == "[":  # Schema[8.0].define
                self.next()
                ver = self.expect("NUM")[1]
                self.expect("]")
                self.expect(".")
                m = self.expect("ID")[1]
                name = "%s[%s].%s" % (name, ver, m)
            args, kw = self.call_args()
            block = None
            if self.peek() == ("ID", "do"):
                self.next()
                if self.peek()[0] == "|":
                    self.next()
                    self.expect("ID")
                    self.expect("|")
                block = []
            stack[-1].append((name, args, kw, block))
            if block is not None:
                stack.append(block)
        return out


# --------------------------------------------------------------------------
# SQL rendering helpers


def qi(name):
    return '"%s"' % name.replace('"', '""')


def qs(text):
    return "'%s'" % text.replace("'", "''")


def ruby_float(x):
    r = repr(float(x))
    if "e" in r:
        mant, exp = r.split("e")
        if "." not in mant:
            mant += ".0"
        return "%se%s%02d" % (mant, exp[0] if exp[0] in "+-" else "+", abs(int(exp)))
    return r


def as_json(value):
    """ActiveSupport::JSON.encode: compact, HTML entities escaped."""
    def conv(v):
        if v is NIL:
            return None
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, Lambda):
            raise ValueError("lambda inside JSON default")
        return v
    s = json.dumps(conv(value), separators=(",", ":"), ensure_ascii=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s


def pg_array_literal(items):
    def el(v):
        if v is NIL or v is None:
            return "NULL"
        if isinstance(v, list):
            return pg_array_literal(v)
        if v is True or v is False:
            return "t" if v else "f"
        s = str(v)
        if s == "" or re.search(r'[{},"\\\s]', s) or s.upper() == "NULL":
            return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')
        return s
    return "{%s}" % ",".join(el(v) for v in items)


GEO_TYPES = {"geography", "geometry", "geometry_collection", "line_string",
             "multi_line_string", "multi_point", "multi_polygon", "spatial",
             "st_point", "st_polygon"}
GEO_CANON = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
             "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
             "MULTIPOLYGON": "MultiPolygon", "GEOMETRYCOLLECTION": "GeometryCollection",
             "GEOMETRY": "Geometry"}

SIMPLE_TYPES = {"text": "text", "bigint": "bigint", "float": "double precision",
                "boolean": "boolean", "date": "date", "jsonb": "jsonb", "json": "json",
                "uuid": "uuid", "binary": "bytea", "inet": "inet", "cidr": "cidr",
                "macaddr": "macaddr", "hstore": "hstore", "citext": "citext",
                "interval": "interval", "xml": "xml", "tsvector": "tsvector",
                "money": "money", "point": "point", "bit_varying": "bit varying",
                "daterange": "daterange", "tsrange": "tsrange", "tstzrange": "tstzrange",
                "int4range": "int4range", "int8range": "int8range", "numrange": "numrange",
                "oid": "oid", "ltree": "ltree"}


def geo_sql(ctype, opts):
    """activerecord-postgis-adapter: spatial column type with typmod."""
    o = dict(opts)
    lim = o.pop(Sym("limit"), None)
    if isinstance(lim, dict):
        o.update(lim)
    geographic = o.get(Sym("geographic")) is True or ctype == "geography"
    base = "geography" if geographic else "geometry"
    gtype = o.get(Sym("type"), ctype if ctype not in ("geography", "spatial") else "geometry")
    g = str(gtype).replace("_", "").upper()
    g = {"STPOINT": "POINT", "STPOLYGON": "POLYGON", "SPATIAL": "GEOMETRY"}.get(g, g)
    if g not in GEO_CANON:
        raise ValueError("unknown spatial type %r" % gtype)
    name = GEO_CANON[g]
    if o.get(Sym("has_z")):
        name += "Z"
    if o.get(Sym("has_m")):
        name += "M"
    srid = o.get(Sym("srid"), 4326 if geographic else 0)
    if srid == 0 and not geographic:
        return "%s(%s)" % (base, name)  # SRID 0 is the same typmod as no SRID
    return "%s(%s,%d)" % (base, name, srid)


def type_sql(ctype, opts, schema_ver):
    ctype = str(ctype)
    g = lambda k: opts.get(Sym(k), NIL)  # noqa: E731
    limit, precision, scale = g("limit"), g("precision"), g("scale")
    if ctype in GEO_TYPES:
        sql = geo_sql(ctype, opts)
    elif ctype == "string":
        sql = "character varying" + ("(%d)" % limit if limit is not NIL else "")
    elif ctype == "integer":
        if limit in (NIL, 3, 4):
            sql = "integer"
        elif limit in (1, 2):
            sql = "smallint"
        elif limit in (5, 6, 7, 8):
            sql = "bigint"
        else:
            raise ValueError("bad integer limit %r" % limit)
    elif ctype == "decimal" or ctype == "numeric":
        if precision is not NIL and scale is not NIL:
            sql = "numeric(%d,%d)" % (precision, scale)
        elif precision is not NIL:
            sql = "numeric(%d)" % precision
        else:
            sql = "numeric"
    elif ctype in ("datetime", "timestamp", "timestamptz", "time"):
        if Sym("precision") not in opts:
            # Rails >= 7.0 gives datetime columns precision 6 unless told otherwise.
            precision = 6 if ctype != "time" and schema_ver >= 7.0 else NIL
        base = {"datetime": "timestamp", "timestamp": "timestamp",
                "timestamptz": "timestamp", "time": "time"}[ctype]
        zone = " with time zone" if ctype == "timestamptz" else " without time zone"
        sql = base + ("(%d)" % precision if precision is not NIL else "") + zone
    elif ctype in SIMPLE_TYPES:
        sql = SIMPLE_TYPES[ctype]
    else:
        raise ValueError("unsupported column type %r" % ctype)
    if g("array") is True:
        sql += "[]"
    return sql


def default_sql(ctype, opts, value):
    """Rails' quote_default_expression for the PostgreSQL adapter."""
    ctype = str(ctype)
    if isinstance(value, Lambda):
        return value.sql
    if ctype == "uuid" and isinstance(value, str) and "()" in value:
        return value
    if opts.get(Sym("array")) is True:
        if isinstance(value, list):
            return qs(pg_array_literal(value))
        return qs(str(value))
    if ctype in ("json", "jsonb"):
        return qs(as_json(value))
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if isinstance(value, bool):
        raise AssertionError
    if ctype in ("integer", "bigint") and isinstance(value, (int, float, str)):
        return str(int(float(value))) if not isinstance(value, int) else str(value)
    if ctype == "float" and isinstance(value, (int, float)):
        return ruby_float(value)
    if ctype in ("decimal", "numeric"):
        return format_bigdecimal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ruby_float(value)
    if isinstance(value, str):
        return qs(value)
    raise ValueError("unsupported default %r for %s" % (value, ctype))


def format_bigdecimal(value):
    """BigDecimal#to_s("F"): plain notation, at least one fractional digit."""
    from decimal import Decimal
    d = Decimal(str(value))
    s = format(d, "f")
    if "." not in s:
        s += ".0"
    return s


# --------------------------------------------------------------------------
# Rails naming rules


def singularize(word):
    """The ActiveSupport rules that matter for Dawarich table names."""
    for pat, rep in ((r"(quiz)zes$", r"\1"), (r"(matr)ices$", r"\1ix"),
                     (r"(vert|ind)ices$", r"\1ex"), (r"^(ox)en", r"\1"),
                     (r"(alias|status)(es)?$", r"\1"), (r"(octop|vir)(us|i)$", r"\1us"),
                     (r"(cris|test)(is|es)$", r"\1is"), (r"(shoe)s$", r"\1"),
                     (r"(o)es$", r"\1"), (r"(bus)(es)?$", r"\1"), (r"^(m|l)ice$", r"\1ouse"),
                     (r"(x|ch|ss|sh)es$", r"\1"), (r"(m)ovies$", r"\1ovie"),
                     (r"(s)eries$", r"\1eries"), (r"([^aeiouy]|qu)ies$", r"\1y"),
                     (r"([lr])ves$", r"\1f"), (r"(tive)s$", r"\1"), (r"(hive)s$", r"\1"),
                     (r"([^f])ves$", r"\1fe"), (r"(^analy)(sis|ses)$", r"\1sis"),
                     (r"([ti])a$", r"\1um"), (r"(n)ews$", r"\1ews"), (r"(ss)$", r"\1"),
                     (r"s$", "")):
        if re.search(pat, word, re.I):
            # the last component only (e.g. points_raw_data_archives)
            return re.sub(pat, rep, word, count=1, flags=re.I)
    return word


def fk_default_name(table, columns):
    ident = "%s_%s_fk" % (table, "_and_".join(columns))
    return "fk_rails_" + hashlib.sha256(ident.encode()).hexdigest()[:10]


def chk_default_name(table, expr):
    ident = "%s_%s_chk" % (table, expr)
    return "chk_rails_" + hashlib.sha256(ident.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------
# Translation


def k(kw, name, default=NIL):
    return kw.get(Label(name), kw.get(name, default))


ON_ACTION = {"cascade": "CASCADE", "nullify": "SET NULL", "restrict": "RESTRICT",
             "no_action": "NO ACTION"}


def index_sql(table, cols, kw):
    name = k(kw, "name")
    if name is NIL:
        if isinstance(cols, str):
            raise ValueError("expression index on %s needs a name" % table)
        name = "index_%s_on_%s" % (table, "_and_".join(map(str, cols)))
    parts = ["CREATE"]
    if k(kw, "unique") is True:
        parts.append("UNIQUE")
    parts.append("INDEX %s ON %s" % (qi(name), qi(table)))
    using = k(kw, "using")
    if using is not NIL:
        parts.append("USING %s" % using)
    if isinstance(cols, str):
        colsql = cols
    else:
        order, opclass = k(kw, "order", {}), k(kw, "opclass", {})
        length = k(kw, "length")
        if length is not NIL:
            raise ValueError("index length: is MySQL-only")
        items = []
        for c in cols:
            c = str(c)
            s = qi(c)
            oc = opclass.get(Sym(c), opclass.get(c)) if isinstance(opclass, dict) else opclass
            if oc not in (NIL, None):
                s += " %s" % oc
            o = order.get(Sym(c), order.get(c)) if isinstance(order, dict) else order
            if o not in (NIL, None):
                s += " " + str(o).upper()
            items.append(s)
        colsql = ", ".join(items)
    parts.append("(%s)" % colsql)
    include = k(kw, "include")
    if include is not NIL:
        parts.append("INCLUDE (%s)" % ", ".join(qi(str(c)) for c in
                                                 (include if isinstance(include, list) else [include])))
    if k(kw, "nulls_not_distinct") is True:
        parts.append("NULLS NOT DISTINCT")
    where = k(kw, "where")
    if where is not NIL:
        parts.append("WHERE %s" % where)
    return " ".join(parts) + ";"


def convert(src, internal=True, data_migrations=False):
    stmts = Parser(tokenize(src)).statements()
    defs = [s for s in stmts if ".define" in s[0]]
    if len(defs) != 1:
        raise SyntaxError("no ActiveRecord::Schema.define block")
    dname, _, dkw, body = defs[0]
    m = re.search(r"\[(\d+(?:\.\d+)?)\]", dname)
    schema_ver = float(m.group(1)) if m else 6.0
    version = k(dkw, "version", None)

    ext, tables, checks, indexes, fks = [], [], [], [], []
    table_cols = {}
    for name, args, kw, block in body:
        if name == "enable_extension":
            schema, _, ext_name = str(args[0]).rpartition(".")
            ext.append('CREATE EXTENSION IF NOT EXISTS %s%s;' % (
                qi(ext_name), " SCHEMA %s" % schema if schema else ""))
        elif name == "create_table":
            tables.append(create_table(str(args[0]), kw, block or [], schema_ver,
                                       indexes, table_cols))
        elif name == "add_index":
            indexes.append(index_sql(str(args[0]), args[1], kw))
        elif name == "add_check_constraint":
            table, expr = str(args[0]), args[1]
            cname = k(kw, "name")
            if cname is NIL:
                cname = chk_default_name(table, expr)
            checks.append("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)%s;" % (
                qi(table), qi(cname), expr, " NOT VALID" if k(kw, "validate") is False else ""))
        elif name == "add_foreign_key":
            fks.append((str(args[0]), str(args[1]), kw))
        elif name in ("create_enum", "create_schema", "create_virtual_table",
                      "execute", "create_function", "create_trigger"):
            raise ValueError("unsupported schema.rb statement %s" % name)
        else:
            raise ValueError("unknown schema.rb statement %s" % name)

    fk_sql = []
    for frm, to, kw in fks:
        pk = k(kw, "primary_key", "id")
        col = k(kw, "column")
        if col is NIL:
            col = "%s_%s" % (singularize(to), pk)
        cols = [str(c) for c in (col if isinstance(col, list) else [col])]
        pks = [str(c) for c in (pk if isinstance(pk, list) else [pk])]
        known = table_cols.get(frm)
        if known is not None and any(c not in known for c in cols):
            raise ValueError("FK %s -> %s: column %s not in table" % (frm, to, cols))
        fname = k(kw, "name")
        if fname is NIL:
            fname = fk_default_name(frm, cols)
        s = "ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)" % (
            qi(frm), qi(str(fname)), ", ".join(map(qi, cols)), qi(to), ", ".join(map(qi, pks)))
        od, ou = k(kw, "on_delete"), k(kw, "on_update")
        if od is not NIL:
            s += " ON DELETE " + ON_ACTION[str(od)]
        if ou is not NIL:
            s += " ON UPDATE " + ON_ACTION[str(ou)]
        d = k(kw, "deferrable")
        if d is not NIL and d is not False:
            s += " DEFERRABLE" + (" INITIALLY DEFERRED" if str(d) == "deferred" else
                                  " INITIALLY IMMEDIATE" if str(d) == "immediate" else "")
        if k(kw, "validate") is False:
            s += " NOT VALID"
        fk_sql.append(s + ";")

    out = []
    out += ext
    if ext:
        out.append("")
    for t in tables:
        out += t + [""]
    out += checks
    if checks:
        out.append("")
    out += indexes
    if indexes:
        out.append("")
    out += fk_sql
    if fk_sql:
        out.append("")
    if internal:
        out.append("-- Rails bookkeeping tables (created by the schema load itself; rows not included)")
        out.append('CREATE TABLE "schema_migrations" ("version" character varying NOT NULL PRIMARY KEY);')
        out.append('CREATE TABLE "ar_internal_metadata" ("key" character varying NOT NULL PRIMARY KEY, '
                   '"value" character varying, '
                   '"created_at" timestamp(6) without time zone NOT NULL, '
                   '"updated_at" timestamp(6) without time zone NOT NULL);')
    if data_migrations and "data_migrations" not in table_cols:
        out.append("-- not in this schema.rb; created by data_migrate on the first data:migrate")
        out.append('CREATE TABLE "data_migrations" ("version" character varying NOT NULL PRIMARY KEY);')
    return schema_ver, version, "\n".join(out).rstrip() + "\n"


def create_table(table, kw, block, schema_ver, indexes, table_cols):
    cols, constraints, comments = [], [], []
    names = set()
    idopt = k(kw, "id", Sym("primary_key"))
    pk = k(kw, "primary_key", "id")
    if isinstance(pk, list):
        constraints.append("PRIMARY KEY (%s)" % ", ".join(qi(str(c)) for c in pk))
    elif idopt is not False:
        pk, idt = str(pk), str(idopt)
        names.add(pk)
        popts = {Sym(x): v for x, v in kw.items()
                 if x in ("limit", "precision", "scale", "default", "array")}
        has_default = Sym("default") in popts
        if idt == "primary_key" or (idt == "bigint" and not has_default):
            cols.append("%s bigserial PRIMARY KEY" % qi(pk))
        elif idt in ("serial", "bigserial"):
            cols.append("%s %s PRIMARY KEY" % (qi(pk), idt))
        elif idt == "integer" and not has_default:
            cols.append("%s %s PRIMARY KEY" % (qi(pk), "bigserial" if popts.get(Sym("limit")) == 8
                                                 else "serial"))
        else:
            s = "%s %s" % (qi(pk), type_sql(idt, popts, schema_ver))
            d = popts.get(Sym("default"), NIL)
            if idt == "uuid" and not has_default:
                d = "gen_random_uuid()"
            if d is not NIL:
                s += " DEFAULT " + default_sql(idt, popts, d)
            cols.append(s + " NOT NULL PRIMARY KEY")
    tcomment = k(kw, "comment")
    expanded = []
    for st in block:  # t.timestamps -> two datetime columns, in place
        if st[0] == "t.timestamps":
            for c in ("created_at", "updated_at"):
                expanded.append(("t.datetime", [c], dict({"null": False}, **st[2]), None))
        else:
            expanded.append(st)
    for name, args, ckw, _ in expanded:
        meth = name.split(".", 1)[1] if name.startswith("t.") else None
        opts = {Sym(x): v for x, v in ckw.items()}
        if meth == "index":
            indexes.append(index_sql(table, args[0], ckw))
            continue
        if meth == "check_constraint":
            cname = k(ckw, "name")
            if cname is NIL:
                cname = chk_default_name(table, args[0])
            constraints.append("CONSTRAINT %s CHECK (%s)%s" % (
                qi(cname), args[0], " NOT VALID" if k(ckw, "validate") is False else ""))
            continue
        if meth == "column":
            meth, args = str(args[1]), [args[0]]
        if meth is None:
            raise ValueError("unknown statement %s in create_table %s" % (name, table))
        for cname in args:
            cname = str(cname)
            names.add(cname)
            s = "%s %s" % (qi(cname), type_sql(meth, opts, schema_ver))
            if opts.get(Sym("collation"), NIL) is not NIL:
                s += ' COLLATE "%s"' % opts[Sym("collation")]
            d = opts.get(Sym("default"), NIL)
            if d is not NIL:
                s += " DEFAULT " + default_sql(meth, opts, d)
            if opts.get(Sym("null"), NIL) is False:
                s += " NOT NULL"
            if opts.get(Sym("primary_key"), NIL) is True:
                s += " PRIMARY KEY"
            cols.append(s)
            c = opts.get(Sym("comment"), NIL)
            if c not in (NIL, None, ""):
                comments.append("COMMENT ON COLUMN %s.%s IS %s;" % (qi(table), qi(cname), qs(c)))
    table_cols[table] = names
    body = ",\n  ".join(cols + constraints)
    lines = ["CREATE TABLE %s (\n  %s\n);" % (qi(table), body)]
    if tcomment not in (NIL, None, ""):
        lines.append("COMMENT ON TABLE %s IS %s;" % (qi(table), qs(tcomment)))
    return lines + comments


def main(argv):
    src = sys.stdin.read()
    schema_ver, version, sql = convert(src, internal="--no-internal" not in argv,
                                       data_migrations="--data-migrations" in argv)
    if "--header" in argv:
        print("Schema[%s] %s" % (schema_ver, version))
        return
    sys.stdout.write(sql)


if __name__ == "__main__":
    main(sys.argv[1:])
