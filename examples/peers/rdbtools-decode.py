#!/usr/bin/env python3
"""Adapter: decode one RDB file with the PyPI `rdbtools` parser and print Dataset JSON
(docs/dataset-json.md), or {"error": {...}} and exit 1 when rdbtools refuses the file.

Usage: rdbtools-decode.py FILE   (run it with the Python that has rdbtools installed; see
install.sh). What rdbtools cannot express is not invented: a stream or module value makes the
adapter report an error object naming it, instead of guessing its contents.
"""
import base64
import calendar
import json
import sys

from rdbtools import RdbCallback, RdbParser


def text(b):
    if isinstance(b, int):
        b = str(b).encode()
    if isinstance(b, float):
        b = repr(b).encode()
    if isinstance(b, str):
        b = b.encode("latin-1")
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(b).decode()}


def score(f):
    if f == float("inf"):
        return "inf"
    if f == float("-inf"):
        return "-inf"
    return repr(float(f))


class Unsupported(Exception):
    pass


class Collect(RdbCallback):
    def __init__(self):
        super().__init__(string_escape=None)
        self.keys = []
        self.db = 0
        self.cur = None

    def start_database(self, db_number):
        self.db = db_number

    def _key(self, key, expiry, kind, value):
        ms = None
        if expiry is not None:
            # rdbtools gives a naive UTC datetime; timegm reads it as UTC whatever the local zone.
            ms = calendar.timegm(expiry.utctimetuple()) * 1000 + expiry.microsecond // 1000
        self.cur = {"db": self.db, "key": text(key), "type": kind, "expire_ms": ms, "value": value}
        self.keys.append(self.cur)

    def set(self, key, value, expiry, info):
        self._key(key, expiry, "string", text(value))

    def start_hash(self, key, length, expiry, info):
        self._key(key, expiry, "hash", [])

    def hset(self, key, field, value):
        self.cur["value"].append([text(field), text(value)])

    def start_set(self, key, cardinality, expiry, info):
        self._key(key, expiry, "set", [])

    def sadd(self, key, member):
        self.cur["value"].append(text(member))

    def start_list(self, key, expiry, info):
        self._key(key, expiry, "list", [])

    def rpush(self, key, value):
        self.cur["value"].append(text(value))

    def start_sorted_set(self, key, length, expiry, info):
        self._key(key, expiry, "zset", [])

    def zadd(self, key, sc, member):
        self.cur["value"].append([text(member), score(sc)])

    def start_stream(self, key, listpacks_count, expiry, info):
        raise Unsupported("stream values (rdbtools keeps only their raw listpacks)")

    def start_module(self, key, module_name, expiry, info):
        raise Unsupported("module values")


def main():
    path = sys.argv[1]
    cb = Collect()
    try:
        RdbParser(cb).parse(path)
    except Exception as e:  # rdbtools raises plain Exceptions for every refusal
        kind = "unsupported" if isinstance(e, Unsupported) else "refused"
        print(json.dumps({"error": {"kind": kind, "offset": None, "message": str(e)[:300]}}))
        sys.exit(1)
    print(json.dumps({"format": "dataset/1", "functions": [], "keys": cb.keys}))


if __name__ == "__main__":
    main()
