#!/usr/bin/env python3
"""List, per stable Dawarich tag, the migration versions shipped in db/migrate and db/data.

Reads a bare git mirror of Dawarich and tags.txt (first field = tag; "-rc" tags
skipped) and prints, in release order, two lines per tag:

    TAG schema V1,V2,...     versions of db/migrate files
    TAG data V1,V2,...       versions of db/data files (empty list if none)

A file counts when its base name matches ^[0-9]+_.*\\.rb$ (Rails' own glob is
recursive, so subdirectories are searched too).  Versions are sorted
numerically and de-duplicated.  Oddities (names Rails would reject, duplicate
versions) are reported on stderr.

usage: check_releases.py [MIRROR_GIT_DIR] [TAGS_TXT]
"""

import re
import subprocess
import sys

FILE_RE = re.compile(r"^([0-9]+)_.*\.rb$")
RAILS_NAME_RE = re.compile(r"^([0-9]+)_([_a-z0-9]*)\.?([_a-z0-9]*)?\.rb$")  # parse_migration_filename


def versions(mirror, tag, folder):
    r = subprocess.run(["git", "-C", mirror, "ls-tree", "-r", "--name-only", tag, folder + "/"],
                       capture_output=True, text=True, check=True)
    found = {}
    for path in r.stdout.splitlines():
        base = path.rsplit("/", 1)[-1]
        m = FILE_RE.match(base)
        if not m:
            continue
        if not RAILS_NAME_RE.match(base):
            print("%s: %s does not match Rails' migration name rule" % (tag, path), file=sys.stderr)
        v = int(m.group(1))
        if v in found:
            print("%s: duplicate version %d (%s, %s)" % (tag, v, found[v], path), file=sys.stderr)
        found[v] = path
    return sorted(found)


def main():
    mirror = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/Freika+dawarich/repo"
    tags_txt = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/dawarich/tags.txt"
    for line in open(tags_txt):
        f = line.split()
        if not f or "-rc" in f[0]:
            continue
        tag = f[0]
        for kind, folder in (("schema", "db/migrate"), ("data", "db/data")):
            print("%s %s %s" % (tag, kind, ",".join(map(str, versions(mirror, tag, folder)))))


if __name__ == "__main__":
    main()
