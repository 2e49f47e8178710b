//! Splitting a catalog body into statements, aware of quotes, dollar quotes and comments, and
//! collecting the `-- key: value` directives written just before each statement.

/// Returns (directives, statement) pairs; statements keep their text minus the trailing `;`.
pub fn split_statements(body: &str) -> Vec<(Vec<(String, String)>, String)> {
    let b = body.as_bytes();
    let mut out = Vec::new();
    let mut directives = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            let end = body[i..].find('\n').map_or(b.len(), |e| i + e);
            if start.is_none() {
                if let Some((k, v)) = body[i + 2..end].trim().split_once(':') {
                    let k = k.trim();
                    if matches!(k, "batch" | "batch-size" | "skip-when" | "fuse" | "phase") {
                        directives.push((k.to_string(), v.trim().to_string()));
                    }
                }
            }
            i = end;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = body[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            continue;
        }
        if c.is_ascii_whitespace() && start.is_none() {
            i += 1;
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        match c {
            b'\'' | b'"' => {
                let mut j = i + 1;
                while j < b.len() {
                    if b[j] == c {
                        if b.get(j + 1) == Some(&c) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                i = j + 1;
            }
            b'$' => {
                // $tag$ ... $tag$ (a tag is empty or an identifier); `$1` is a parameter.
                let tag_end = body[i + 1..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .map(|e| i + 1 + e);
                match tag_end {
                    Some(te) if b[te] == b'$' && !b[i + 1..te].first().is_some_and(u8::is_ascii_digit) => {
                        let tag = &body[i..=te];
                        i = body[te + 1..].find(tag).map_or(b.len(), |e| te + 1 + e + tag.len());
                    }
                    _ => i += 1,
                }
            }
            b';' => {
                let sql = body[start.unwrap()..i].trim().to_string();
                out.push((std::mem::take(&mut directives), sql));
                start = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(s) = start {
        let sql = body[s..].trim();
        if !sql.is_empty() {
            out.push((directives, sql.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_around_quotes_comments_and_dollar_quotes() {
        let body = "-- a comment; not a split\nCREATE TABLE a (x text DEFAULT 'a;b');\n/* block; */\nDO $$ BEGIN PERFORM 1; END $$;\n-- batch: points.id\n-- batch-size: 500\nUPDATE points SET x = $fn$;$fn$ WHERE id >= $1 AND id < $2;\nSELECT \"we;ird\"";
        let s = split_statements(body);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].1, "CREATE TABLE a (x text DEFAULT 'a;b')");
        assert_eq!(s[1].1, "DO $$ BEGIN PERFORM 1; END $$");
        assert_eq!(
            s[2].0,
            vec![
                ("batch".to_string(), "points.id".to_string()),
                ("batch-size".to_string(), "500".to_string())
            ]
        );
        assert!(s[2].1.ends_with("id < $2"));
        assert!(s[1].0.is_empty());
        assert_eq!(s[3].1, "SELECT \"we;ird\"");
    }

    #[test]
    fn a_no_op_body_has_no_statements() {
        assert!(split_statements("\n-- no-op\n").is_empty());
    }
}
