//! JSON as RFC 8259 says, with I-JSON (RFC 7493) where it decides: one linear pass over a
//! response body before serde reads it, refusing what serde_json would let through when a
//! value is skipped or kept as a map (duplicate keys, lone surrogates, numbers too large for a
//! double, deep nesting) and what it never accepts anyway (a BOM, trailing data).

use std::collections::HashSet;

/// The deepest nesting of arrays and objects accepted.
pub(crate) const MAX_DEPTH: usize = 128;

/// Checks that `body` is exactly one JSON value, surrounded by whitespace only.
pub(crate) fn check(body: &[u8]) -> Result<(), String> {
    if body.starts_with(b"\xEF\xBB\xBF") {
        return Err("the body starts with a byte order mark".to_owned());
    }
    if let Err(e) = std::str::from_utf8(body) {
        return Err(format!("the body is not valid UTF-8: {e}"));
    }
    let mut p = Checker { text: body, at: 0 };
    p.space();
    p.value(0)?;
    p.space();
    if p.at < body.len() {
        return Err(p.fail("trailing data after the JSON value"));
    }
    Ok(())
}

/// A JSON value with its object members in document order (serde_json's own map sorts them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ordered {
    Null,
    /// A string's text, or a number or boolean as written.
    Scalar(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

/// Parses a (checked) JSON text keeping the order of object members: the SDK's own encoding of
/// a request body, whose field order is the schema's.
pub(crate) fn ordered(text: &[u8]) -> Result<Ordered, String> {
    check(text)?;
    let mut p = Checker { text, at: 0 };
    p.space();
    p.build()
}

struct Checker<'a> {
    text: &'a [u8],
    at: usize,
}

impl Checker<'_> {
    fn fail(&self, what: &str) -> String {
        format!("invalid JSON at byte {}: {what}", self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail(&format!("expected {:?}", char::from(byte))))
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), String> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(None),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.fail("expected a value")),
            None => Err(self.fail("unexpected end of the body")),
        }
    }

    /// The value at the cursor of a checked text, built.
    fn build(&mut self) -> Result<Ordered, String> {
        let value = match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                loop {
                    self.space();
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                        break;
                    }
                    let mut key = String::new();
                    self.string(Some(&mut key))?;
                    self.space();
                    self.expect(b':')?;
                    self.space();
                    members.push((key, self.build()?));
                    self.space();
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    }
                }
                Ordered::Object(members)
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.space();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                        break;
                    }
                    items.push(self.build()?);
                    self.space();
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    }
                }
                Ordered::Array(items)
            }
            Some(b'"') => {
                let mut text = String::new();
                self.string(Some(&mut text))?;
                Ordered::Scalar(text)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Ordered::Null
            }
            Some(_) => {
                let start = self.at;
                match self.peek() {
                    Some(b't') => self.literal(b"true")?,
                    Some(b'f') => self.literal(b"false")?,
                    _ => self.number()?,
                }
                let raw = self.text.get(start..self.at).unwrap_or_default();
                Ordered::Scalar(String::from_utf8_lossy(raw).into_owned())
            }
            None => return Err(self.fail("unexpected end of the body")),
        };
        Ok(value)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), String> {
        let end = self.at + word.len();
        if self.text.get(self.at..end) == Some(word) {
            self.at = end;
            Ok(())
        } else {
            Err(self.fail("expected a value"))
        }
    }

    fn nested(&self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(self.fail(&format!(
                "arrays and objects nested deeper than {MAX_DEPTH}"
            )));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<(), String> {
        self.nested(depth)?;
        self.at += 1;
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.space();
            self.value(depth)?;
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), String> {
        self.nested(depth)?;
        self.at += 1;
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        let mut keys: HashSet<String> = HashSet::new();
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.fail("expected a string key"));
            }
            let start = self.at;
            let mut key = String::new();
            self.string(Some(&mut key))?;
            if !keys.insert(key) {
                self.at = start;
                return Err(self.fail("a duplicate object key"));
            }
            self.space();
            self.expect(b':')?;
            self.space();
            self.value(depth)?;
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected ',' or '}'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.fail("a \\u escape needs four hex digits"))?;
        self.at += 4;
        Ok(digits)
    }

    /// A string; its unescaped text goes to `out` when given (object keys).
    fn string(&mut self, mut out: Option<&mut String>) -> Result<(), String> {
        self.at += 1;
        loop {
            let start = self.at;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.at += 1;
            }
            if let Some(out) = out.as_deref_mut() {
                let run = self.text.get(start..self.at).unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(run));
            }
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = self.escape()?;
                    if let Some(out) = out.as_deref_mut() {
                        out.push(escaped);
                    }
                }
                Some(_) => return Err(self.fail("an unescaped control character in a string")),
                None => return Err(self.fail("an unterminated string")),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        let Some(byte) = self.peek() else {
            return Err(self.fail("an unterminated string"));
        };
        self.at += 1;
        let simple = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode(),
            _ => return Err(self.fail("an invalid escape")),
        };
        Ok(simple)
    }

    fn unicode(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.text.get(self.at..self.at + 2) != Some(b"\\u") {
                    return Err(self.fail("a lone UTF-16 surrogate escape"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.fail("a lone UTF-16 surrogate escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.fail("a lone UTF-16 surrogate escape")),
            other => other,
        };
        char::from_u32(code).ok_or_else(|| self.fail("an invalid \\u escape"))
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<(), String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.fail("a number with a leading zero"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.fail("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.fail("expected a digit after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail("expected a digit in the exponent"));
            }
        }
        let text = std::str::from_utf8(self.text.get(start..self.at).unwrap_or_default())
            .unwrap_or_default();
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(()),
            _ => {
                self.at = start;
                Err(self.fail("a number too large for a double"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_json_passes() {
        for ok in [
            &b" {\"a\" : [1, -0, -0.5e-3, 1E+2, true, false, null], \"\": {}}\r\n\t"[..],
            br#""\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \u0000""#,
            b"[]",
            b"0",
            br#"{"a": {"b": 1}, "c": {"b": 2}}"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{}", String::from_utf8_lossy(ok));
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(check(deep.as_bytes()), Ok(()));
    }

    #[test]
    fn the_corners_are_refused() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        for bad in [
            &b"\xEF\xBB\xBF{}"[..],
            br#"{"a": 1, "a": 2}"#,
            br#"{"x": [{"a": 1, "\u0061": 2}]}"#,
            br#""\ud800""#,
            br#""\udc00""#,
            br#""\ud800\u0041""#,
            deep.as_bytes(),
            b"01",
            b"NaN",
            b"[1,]",
            b"{\"a\":1,}",
            b"// c\n1",
            b"'a'",
            b"\"a\x01\"",
            b"{} x",
            b"1e400",
            b"-1e400",
            b"\"\xff\"",
            b"",
            b"1.",
            b".5",
            b"\"\\x\"",
        ] {
            assert!(check(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ordered_keeps_the_member_order() {
        let value =
            ordered(br#"{"z": 1, "a": [true, null, "x\u00e9"], "m": {"b": -0.5, "a": {}}}"#);
        let s = |t: &str| Ordered::Scalar(t.to_owned());
        assert_eq!(
            value,
            Ok(Ordered::Object(vec![
                ("z".to_owned(), s("1")),
                (
                    "a".to_owned(),
                    Ordered::Array(vec![s("true"), Ordered::Null, s("xé")])
                ),
                (
                    "m".to_owned(),
                    Ordered::Object(vec![
                        ("b".to_owned(), s("-0.5")),
                        ("a".to_owned(), Ordered::Object(vec![]))
                    ])
                ),
            ]))
        );
        assert!(ordered(b"{,}").is_err());
    }

    #[test]
    fn the_check_reads_a_large_document() {
        // Correctness on a large input; how fast it is, is measured by `nox -s bench`.
        let mut big = Vec::from(&b"["[..]);
        for i in 0..200_000 {
            big.extend_from_slice(
                format!("{{\"k{i}\": \"v\\u00e9\", \"n\": {i}.5e1}},").as_bytes(),
            );
        }
        big.extend_from_slice(b"0]");
        assert_eq!(check(&big), Ok(()));
    }
}
