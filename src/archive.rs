//! The header and table of contents of a PostgreSQL custom-format archive (`pg_dump -Fc`), to check a
//! backup before an upgrade goes on: its table of contents must list data for every table. Only the
//! header and the table of contents are read, never the data blocks, so compression does not matter.
//!
//! Layout of archive versions 1.12 to 1.16 (pg_dump of PostgreSQL 11 to 17). An *int* is a sign byte
//! (non-zero: negative) and `int_size` bytes of magnitude, least significant first; a *string* is an
//! int length (negative: NULL) and that many bytes.
//! - Header: `PGDMP`; version major, minor, revision, `int_size`, `off_size` and format (1: custom) as
//!   bytes; the compression (a byte from 1.15 on, an int before); seven ints of creation time; the
//!   strings database, server version and pg_dump version.
//! - Table of contents: an int count, then per entry: the ints dump id and "had dumper"; the strings
//!   table oid, oid, tag and desc; the int section; the strings definition, drop statement, copy
//!   statement, namespace, tablespace, table access method (1.14+); the int relkind (1.16+); the
//!   strings owner and "with oids"; dependency strings up to a NULL one; then the data offset: a state
//!   byte (1: not set, as in a dump written to a pipe; 2: set; 3: no data) and `off_size` bytes.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read};

use thiserror::Error;

/// The oldest and newest archive minor versions read (major version 1).
const MINOR_VERSIONS: std::ops::RangeInclusive<u8> = 12..=16;
/// A longer string in the header or table of contents means a damaged archive.
const MAX_STRING: i32 = 64 << 20;
const MAGIC: &[u8; 5] = b"PGDMP";
const FORMAT_CUSTOM: u8 = 1;
const HEADER: &str = "header";
const TOC: &str = "table of contents";

/// The header and table of contents of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toc {
    /// Archive format version (major, minor, revision).
    pub version: (u8, u8, u8),
    /// The database that was dumped.
    pub database: String,
    /// Version of the server that was dumped.
    pub server_version: String,
    /// Version of the pg_dump that wrote the archive.
    pub dump_version: String,
    pub entries: Vec<TocEntry>,
}

/// One entry of the table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    pub dump_id: i32,
    /// pg_dump dumped data for this entry (set on every `TABLE DATA` entry).
    pub had_dumper: bool,
    /// The kind of entry: `TABLE`, `TABLE DATA`, `INDEX`, …
    pub desc: String,
    /// The schema; `None` for objects outside schemas.
    pub namespace: Option<String>,
    /// The object's name, unquoted.
    pub tag: String,
}

impl Toc {
    /// "schema.table" (unquoted) of every `TABLE DATA` entry: the tables whose rows the archive holds.
    pub fn tables_with_data(&self) -> BTreeSet<String> {
        self.entries
            .iter()
            .filter(|e| e.desc == "TABLE DATA" && e.had_dumper)
            .map(|e| match &e.namespace {
                Some(ns) => format!("{ns}.{}", e.tag),
                None => e.tag.clone(),
            })
            .collect()
    }
}

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("the file is not a pg_dump custom-format archive (it does not start with PGDMP)")]
    NotCustomFormat,
    #[error("{}", unsupported_message(*major, *minor, *rev))]
    UnsupportedVersion { major: u8, minor: u8, rev: u8 },
    /// `part` is "header" or "table of contents"; `at` is the length of the input.
    #[error("{}", truncated_message(part, *at))]
    Truncated { part: &'static str, at: u64 },
    #[error("could not read the archive: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

fn unsupported_message(major: u8, minor: u8, rev: u8) -> String {
    let age = if (major, minor) < (1, *MINOR_VERSIONS.start()) {
        "an older"
    } else {
        "a newer"
    };
    format!(
        "the archive was written by {age} pg_dump than this check can read (archive format {major}.{minor}.{rev}; \
         readable: 1.{} to 1.{}, which pg_dump of PostgreSQL 11 to 17 writes)",
        MINOR_VERSIONS.start(),
        MINOR_VERSIONS.end()
    )
}

fn truncated_message(part: &str, at: u64) -> String {
    if at == 0 {
        "the file is empty: the backup is incomplete".into()
    } else {
        format!("the archive ends inside its {part} (after {at} bytes): the backup is incomplete")
    }
}

/// Reads the header and table of contents and stops there: the data blocks that follow are not read.
/// `r` is read in small pieces: give a file through a `BufReader`.
pub fn read_toc(r: impl Read) -> Result<Toc, ArchiveError> {
    let mut rd = Reader {
        inner: r,
        pos: 0,
        part: HEADER,
        int_size: 4,
        off_size: 8,
        minor: 0,
    };
    let mut magic = [0u8; 5];
    let n = rd.fill(&mut magic)?;
    if magic[..n] != MAGIC[..n] {
        return Err(ArchiveError::NotCustomFormat);
    }
    if n < magic.len() {
        return Err(rd.truncated());
    }
    let (major, minor, rev) = (rd.byte()?, rd.byte()?, rd.byte()?);
    if major != 1 || !MINOR_VERSIONS.contains(&minor) {
        return Err(ArchiveError::UnsupportedVersion { major, minor, rev });
    }
    rd.minor = minor;
    rd.int_size = rd.byte()?;
    if !(1..=32).contains(&rd.int_size) {
        return Err(rd.damaged(format!("it gives integers a size of {} bytes", rd.int_size)));
    }
    rd.off_size = rd.byte()?;
    if !(1..=32).contains(&rd.off_size) {
        return Err(rd.damaged(format!("it gives file offsets a size of {} bytes", rd.off_size)));
    }
    match rd.byte()? {
        FORMAT_CUSTOM => {}
        3 => return Err(other_format("tar (pg_dump -Ft)")),
        5 => return Err(other_format("directory (pg_dump -Fd)")),
        f => return Err(rd.damaged(format!("it names the unknown archive format {f}"))),
    }
    if minor >= 15 {
        rd.byte()?; // compression algorithm
    } else {
        rd.int()?; // compression level
    }
    for _ in 0..7 {
        rd.int()?; // creation time: seconds, minutes, hours, day, month, year, DST flag
    }
    let database = rd.string()?.unwrap_or_default();
    let server_version = rd.string()?.unwrap_or_default();
    let dump_version = rd.string()?.unwrap_or_default();

    rd.part = TOC;
    let count = rd.int()?;
    if count < 0 {
        return Err(rd.damaged(format!("it claims {count} entries")));
    }
    let mut entries = Vec::with_capacity(count.min(4096) as usize);
    for i in 1..=count {
        entries.push(rd.entry(i)?);
    }
    Ok(Toc {
        version: (major, minor, rev),
        database,
        server_version,
        dump_version,
        entries,
    })
}

fn other_format(name: &str) -> ArchiveError {
    ArchiveError::Invalid(format!(
        "the file is the table of contents of a {name} archive, not a custom-format archive (pg_dump -Fc)"
    ))
}

struct Reader<R> {
    inner: R,
    /// Bytes read so far.
    pos: u64,
    /// The part being read, for errors.
    part: &'static str,
    int_size: u8,
    off_size: u8,
    minor: u8,
}

impl<R: Read> Reader<R> {
    fn truncated(&self) -> ArchiveError {
        ArchiveError::Truncated {
            part: self.part,
            at: self.pos,
        }
    }

    fn damaged(&self, what: String) -> ArchiveError {
        ArchiveError::Invalid(format!("the archive's {} is damaged: {what}", self.part))
    }

    /// Reads until `buf` is full or the input ends; returns how many bytes were read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, ArchiveError> {
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    self.pos += k as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(n)
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), ArchiveError> {
        if self.fill(buf)? < buf.len() {
            return Err(self.truncated());
        }
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, ArchiveError> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn int(&mut self) -> Result<i32, ArchiveError> {
        let negative = self.byte()? != 0;
        let mut bytes = [0u8; 32];
        let bytes = &mut bytes[..usize::from(self.int_size)];
        self.exact(bytes)?;
        let mut magnitude: u64 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if i < 8 {
                magnitude |= u64::from(b) << (8 * i);
            } else if b != 0 {
                return Err(self.damaged("it holds a number too large for a PostgreSQL integer".into()));
            }
        }
        let value = i32::try_from(magnitude).map_err(|_| {
            self.damaged(format!(
                "it holds the number {magnitude}, too large for a PostgreSQL integer"
            ))
        })?;
        Ok(if negative { -value } else { value })
    }

    /// A string; `None` for NULL. Bytes that are not UTF-8 are replaced (names are compared as text).
    fn string(&mut self) -> Result<Option<String>, ArchiveError> {
        let len = self.int()?;
        if len < 0 {
            return Ok(None);
        }
        if len > MAX_STRING {
            return Err(self.damaged(format!("a text field claims to be {len} bytes long")));
        }
        let len = len as u64;
        let mut buf = Vec::new();
        let got = (&mut self.inner).take(len).read_to_end(&mut buf)? as u64;
        self.pos += got;
        if got < len {
            return Err(self.truncated());
        }
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    fn entry(&mut self, index: i32) -> Result<TocEntry, ArchiveError> {
        let dump_id = self.int()?;
        if dump_id <= 0 {
            return Err(self.damaged(format!("entry {index} has the invalid id {dump_id}")));
        }
        let had_dumper = self.int()? != 0;
        self.string()?; // table oid
        self.string()?; // oid
        let tag = self.string()?.unwrap_or_default();
        let desc = self.string()?.unwrap_or_default();
        self.int()?; // section
        self.string()?; // definition
        self.string()?; // drop statement
        self.string()?; // copy statement
        let namespace = self.string()?.filter(|s| !s.is_empty());
        self.string()?; // tablespace
        if self.minor >= 14 {
            self.string()?; // table access method
        }
        if self.minor >= 16 {
            self.int()?; // relkind
        }
        self.string()?; // owner
        self.string()?; // "with oids"
        while self.string()?.is_some() {} // dependencies, up to a NULL
        match self.byte()? {
            1..=3 => {}
            s => return Err(self.damaged(format!("entry {index} has the unknown data state {s}"))),
        }
        let mut offset = [0u8; 32];
        self.exact(&mut offset[..usize::from(self.off_size)])?;
        Ok(TocEntry {
            dump_id,
            had_dumper,
            desc,
            namespace,
            tag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes archives the way pg_dump lays them out (see the module documentation).
    struct Writer {
        buf: Vec<u8>,
        minor: u8,
    }

    impl Writer {
        fn byte(&mut self, b: u8) -> &mut Self {
            self.buf.push(b);
            self
        }
        fn int(&mut self, i: i32) -> &mut Self {
            self.buf.push(u8::from(i < 0));
            self.buf.extend_from_slice(&i.unsigned_abs().to_le_bytes());
            self
        }
        fn str(&mut self, s: Option<&str>) -> &mut Self {
            match s {
                Some(s) => {
                    self.int(s.len() as i32);
                    self.buf.extend_from_slice(s.as_bytes());
                }
                None => {
                    self.int(-1);
                }
            }
            self
        }
        fn header(minor: u8) -> Writer {
            let mut w = Writer { buf: Vec::new(), minor };
            w.buf.extend_from_slice(b"PGDMP");
            w.byte(1).byte(minor).byte(0); // version
            w.byte(4).byte(8).byte(FORMAT_CUSTOM); // int size, offset size, format
            if minor >= 15 {
                w.byte(1); // gzip
            } else {
                w.int(-1); // default compression level
            }
            for t in [5, 4, 3, 2, 1, 124, 0] {
                w.int(t);
            }
            w.str(Some("dawarich")).str(Some("15.8")).str(Some("15.8"));
            w
        }
        fn entry(&mut self, id: i32, had_dumper: bool, tag: &str, desc: &str, ns: Option<&str>, deps: &[&str]) {
            self.int(id).int(i32::from(had_dumper));
            self.str(Some("1259")).str(Some("16384")).str(Some(tag)).str(Some(desc));
            self.int(if had_dumper { 3 } else { 2 }); // section
            self.str(Some("")).str(Some("")).str(None); // definition, drop, copy
            self.str(ns).str(Some("")); // namespace, tablespace
            if self.minor >= 14 {
                self.str(Some("heap"));
            }
            if self.minor >= 16 {
                self.int(i32::from(b'r'));
            }
            self.str(Some("postgres")).str(Some("false"));
            for d in deps {
                self.str(Some(d));
            }
            self.str(None);
            self.byte(if had_dumper { 1 } else { 3 }); // data state: not set (streamed) or no data
            self.buf.extend_from_slice(&[0; 8]);
        }
    }

    /// A two-entry archive of version 1.`minor`; returns it and the lengths of its header and TOC.
    fn archive(minor: u8) -> (Vec<u8>, usize, usize) {
        let mut w = Writer::header(minor);
        let header = w.buf.len();
        w.int(2);
        w.entry(1, false, "my table", "TABLE", Some("public"), &[]);
        w.entry(2, true, "my table", "TABLE DATA", Some("public"), &["1"]);
        let toc = w.buf.len();
        w.buf.extend_from_slice(&[1, 0, 2, 0, 0, 0, 0xde, 0xad]); // a data block, never read
        (w.buf, header, toc)
    }

    #[test]
    fn reads_every_supported_version() {
        for minor in MINOR_VERSIONS {
            let (bytes, _, _) = archive(minor);
            let toc = read_toc(&bytes[..]).unwrap();
            assert_eq!(toc.version, (1, minor, 0));
            assert_eq!(
                (toc.database.as_str(), toc.server_version.as_str()),
                ("dawarich", "15.8")
            );
            assert_eq!(toc.entries.len(), 2);
            assert_eq!(
                toc.entries[1],
                TocEntry {
                    dump_id: 2,
                    had_dumper: true,
                    desc: "TABLE DATA".into(),
                    namespace: Some("public".into()),
                    tag: "my table".into()
                }
            );
            assert_eq!(toc.tables_with_data(), BTreeSet::from(["public.my table".to_string()]));
        }
    }

    #[test]
    fn empty_input_is_truncated() {
        let e = read_toc(&b""[..]).unwrap_err();
        assert!(matches!(e, ArchiveError::Truncated { part: HEADER, at: 0 }), "{e:?}");
        assert_eq!(e.to_string(), "the file is empty: the backup is incomplete");
    }

    #[test]
    fn wrong_magic_is_not_custom_format() {
        for input in [&b"--\n-- PostgreSQL database dump\n"[..], b"PGDMQ", b"x", b"PK\x03\x04"] {
            let e = read_toc(input).unwrap_err();
            assert!(matches!(e, ArchiveError::NotCustomFormat), "{input:?}: {e:?}");
        }
        assert_eq!(
            ArchiveError::NotCustomFormat.to_string(),
            "the file is not a pg_dump custom-format archive (it does not start with PGDMP)"
        );
    }

    #[test]
    fn every_cut_inside_header_or_toc_is_truncated() {
        let (bytes, header, toc) = archive(16);
        for cut in 0..toc {
            let part = if cut < header { HEADER } else { TOC };
            match read_toc(&bytes[..cut]) {
                Err(ArchiveError::Truncated { part: p, at }) => assert_eq!((p, at), (part, cut as u64), "cut at {cut}"),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        let e = read_toc(&bytes[..toc - 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the archive ends inside its table of contents (after {} bytes): the backup is incomplete",
                toc - 1
            )
        );
        // the data blocks after the table of contents are not read
        for cut in toc..=bytes.len() {
            assert_eq!(read_toc(&bytes[..cut]).unwrap().entries.len(), 2);
        }
    }

    #[test]
    fn unsupported_versions_are_refused() {
        for (major, minor) in [(1, 11), (1, 17), (2, 0), (0, 14)] {
            let mut bytes = archive(14).0;
            bytes[5] = major;
            bytes[6] = minor;
            let e = read_toc(&bytes[..]).unwrap_err();
            assert!(
                matches!(e, ArchiveError::UnsupportedVersion { major: a, minor: b, rev: 0 } if (a, b) == (major, minor)),
                "{e:?}"
            );
        }
        let e = ArchiveError::UnsupportedVersion {
            major: 1,
            minor: 10,
            rev: 0,
        };
        assert!(
            e.to_string().starts_with("the archive was written by an older pg_dump"),
            "{e}"
        );
        let e = ArchiveError::UnsupportedVersion {
            major: 1,
            minor: 17,
            rev: 0,
        };
        assert!(
            e.to_string().starts_with("the archive was written by a newer pg_dump"),
            "{e}"
        );
    }

    #[test]
    fn damaged_fields_are_invalid() {
        let (good, header, _) = archive(16);
        let invalid = |bytes: &[u8]| match read_toc(bytes) {
            Err(ArchiveError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        let mut b = good.clone();
        b[10] = 5; // format byte: directory
        assert!(invalid(&b).contains("directory (pg_dump -Fd)"));
        let mut b = good.clone();
        b[8] = 0; // int size
        assert!(invalid(&b).contains("integers a size of 0 bytes"));
        let mut b = good.clone();
        b[header] = 1; // negative entry count
        assert_eq!(
            invalid(&b),
            "the archive's table of contents is damaged: it claims -2 entries"
        );
        let mut b = good.clone();
        b[header + 5 + 1..header + 5 + 5].copy_from_slice(&0u32.to_le_bytes()); // first dump id 0
        assert!(invalid(&b).contains("entry 1 has the invalid id 0"));

        let mut w = Writer::header(16);
        w.int(1).int(1).int(0).int(i32::MAX); // a table oid string of 2 GiB
        assert!(invalid(&w.buf).contains("a text field claims to be 2147483647 bytes long"));
        let mut w = Writer::header(16);
        w.int(1);
        w.entry(1, true, "t", "TABLE DATA", Some("public"), &[]);
        let flag = w.buf.len() - 9;
        w.buf[flag] = 7;
        assert!(invalid(&w.buf).contains("entry 1 has the unknown data state 7"));
    }

    #[test]
    fn damaged_bytes_never_panic() {
        let (good, _, toc) = archive(15);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut b = good.clone();
            for _ in 0..3 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % toc;
                b[at] = (seed >> 17) as u8;
            }
            let _ = read_toc(&b[..]);
        }
    }

    #[test]
    fn entries_outside_schemas_have_no_namespace() {
        let mut w = Writer::header(13);
        w.int(1);
        w.entry(1, false, "ENCODING", "ENCODING", None, &[]);
        let toc = read_toc(&w.buf[..]).unwrap();
        assert_eq!(toc.entries[0].namespace, None);
        assert!(toc.tables_with_data().is_empty());
    }
}
