//! The parser: JSON5 text into the span tree, with the depth limit and the collapsed
//! reading of one list.

use super::*;

/// Parses `text` as one JSON5 value.
pub(crate) fn parse(text: &str) -> Result<Tree, SyntaxError> {
    parse_with(text, None)
}

/// [`parse`], except that each element of the array at `path` (keys from the root; with
/// duplicate keys, every array there) is handed to `element` as a tree of its own, with
/// the array's id, and not kept: the array reads as empty. A reader of a config whose
/// bulk is one list then never holds the list's nodes all at once.
pub(crate) fn parse_collapsing<'t>(
    text: &'t str,
    path: &'t [&'t str],
    element: &'t mut dyn FnMut(u32, &Tree),
) -> Result<Tree, SyntaxError> {
    parse_with(
        text,
        Some(Collapse {
            path,
            element,
            scratch: Vec::new(),
        }),
    )
}

fn parse_with<'t>(text: &'t str, collapse: Option<Collapse<'t>>) -> Result<Tree, SyntaxError> {
    if text.len() >= NONE as usize {
        return Err(SyntaxError {
            offset: 0,
            message: "the file is too large (4 GiB or more)",
            limit: true,
        });
    }
    let mut parser = Parser::at(text, 0);
    // Roughly one value per 12 bytes in real configs; avoids regrowing the arena.
    if collapse.is_none() {
        parser.nodes.reserve(text.len() / 12 + 4);
    }
    parser.collapse = collapse;
    parser.skip_trivia()?;
    parser.path = 0;
    let root = parser.value(NONE)?;
    parser.skip_trivia()?;
    if parser.pos < parser.bytes.len() {
        return Err(parser.error("unexpected text after the end of the value"));
    }
    Ok(Tree {
        nodes: parser.nodes,
        root,
    })
}

pub(super) struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pub(super) pos: usize,
    line: u32,
    depth: usize,
    pub(super) nodes: Vec<Node>,
    /// How many keys of `collapse`'s path lead to the value about to be parsed
    /// (`OFF_PATH`: it is not on the path).
    path: u8,
    collapse: Option<Collapse<'t>>,
}

/// "Not on the collapsed path".
const OFF_PATH: u8 = u8::MAX;

/// The elements of the array at `path` are parsed one at a time into `scratch` and handed
/// to `element` (with the array's id) instead of being kept in the tree.
struct Collapse<'t> {
    path: &'t [&'t str],
    element: &'t mut dyn FnMut(u32, &Tree),
    scratch: Vec<Node>,
}

impl<'t> Parser<'t> {
    /// A parser (or scanner) of `text` from `pos`.
    pub(super) fn at(text: &'t str, pos: usize) -> Parser<'t> {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos,
            line: 0,
            depth: 0,
            nodes: Vec::new(),
            path: OFF_PATH,
            collapse: None,
        }
    }

    pub(super) fn error(&self, message: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            message,
            limit: false,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The (possibly multi-byte) character at the cursor.
    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// Skips whitespace and comments (JSON5's set, Unicode included), counting lines.
    pub(super) fn skip_trivia(&mut self) -> Result<(), SyntaxError> {
        // Fast path: the common single space between tokens.
        if self.peek() == Some(b' ')
            && self
                .bytes
                .get(self.pos + 1)
                .is_some_and(|b| *b > b' ' && *b < 0x80 && *b != b'/')
        {
            self.pos += 1;
            return Ok(());
        }
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0B | 0x0C => self.pos += 1,
                b'/' => self.comment()?,
                0x80.. => {
                    let Some(c) = self.peek_char() else { break };
                    if !json5::char::is_json5_whitespace(c) {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn comment(&mut self) -> Result<(), SyntaxError> {
        match self.bytes.get(self.pos + 1) {
            Some(b'/') => {
                // Ends at any line terminator (U+2028/2029 too, encoded E2 80 A8/A9), which
                // is consumed.
                self.pos += 2;
                while let Some(skip) = self.bytes[self.pos..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r' || b == 0xE2)
                {
                    self.pos += skip;
                    match self.bytes[self.pos] {
                        b'\n' => {
                            self.line += 1;
                            self.pos += 1;
                            return Ok(());
                        }
                        b'\r' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => {
                            let separator = matches!(
                                self.bytes.get(self.pos + 1..self.pos + 3),
                                Some([0x80, 0xA8 | 0xA9])
                            );
                            self.pos += if separator { 3 } else { 1 };
                            if separator {
                                return Ok(());
                            }
                        }
                    }
                }
                self.pos = self.bytes.len();
                Ok(())
            }
            Some(b'*') => {
                let body = self.pos + 2;
                match self.text[body..].find("*/") {
                    Some(len) => {
                        self.line += count_newlines(&self.bytes[body..body + len]);
                        self.pos = body + len + 2;
                        Ok(())
                    }
                    None => {
                        self.pos = self.bytes.len();
                        Err(self.error("the file ends inside a /* comment */"))
                    }
                }
            }
            _ => Err(self.error("expected a comment after `/`")),
        }
    }

    fn push(&mut self, kind: Kind, start: usize, parent: u32) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            start: start as u32,
            end: start as u32,
            key_start: NONE,
            next: NONE,
            parent,
            flags: 0,
        });
        id
    }

    /// Ends node `id` at the cursor; `line` is the line it started on.
    fn finish(&mut self, id: u32, line: u32) {
        let multiline = self.line > line;
        let node = &mut self.nodes[id as usize];
        node.end = self.pos as u32;
        node.set(MULTILINE, multiline);
    }

    /// Links `child` after `last` (`NONE`: as the first child, which is always the node
    /// right after its container).
    fn link(&mut self, parent: u32, last: u32, child: u32) {
        if last == NONE {
            debug_assert_eq!(child, parent + 1);
            self.nodes[parent as usize].set(HAS_CHILDREN, true);
        } else {
            self.nodes[last as usize].next = child;
        }
    }

    /// A value at the cursor (trivia already skipped).
    pub(super) fn value(&mut self, parent: u32) -> Result<u32, SyntaxError> {
        let start = self.pos;
        let path = std::mem::replace(&mut self.path, OFF_PATH);
        match self.peek() {
            Some(b'{') => self.container(Kind::Object, parent, path),
            Some(b'[') => self.container(Kind::Array, parent, path),
            Some(quote @ (b'"' | b'\'')) => {
                let line = self.line;
                let id = self.push(Kind::String, start, parent);
                let escaped = self.string(quote)?;
                self.nodes[id as usize].set(ESCAPED, escaped);
                self.finish(id, line);
                Ok(id)
            }
            Some(b't') => self.keyword("true", Kind::Bool, parent),
            Some(b'f') => self.keyword("false", Kind::Bool, parent),
            Some(b'n') => self.keyword("null", Kind::Null, parent),
            Some(b'+' | b'-' | b'.' | b'I' | b'N' | b'0'..=b'9') => {
                let id = self.push(Kind::Number, start, parent);
                self.number()?;
                self.finish(id, self.line);
                Ok(id)
            }
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("the file ends where a value should be")),
        }
    }

    fn keyword(&mut self, word: &'static str, kind: Kind, parent: u32) -> Result<u32, SyntaxError> {
        let id = self.push(kind, self.pos, parent);
        self.expect_str(word)?;
        self.finish(id, self.line);
        Ok(id)
    }

    /// Consumes `word` exactly, failing at the first differing character like `json5`.
    fn expect_str(&mut self, word: &str) -> Result<(), SyntaxError> {
        for expected in word.bytes() {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return Err(self.error("unexpected character")),
                None => return Err(self.error("the file ends inside a value")),
            }
        }
        Ok(())
    }

    fn container(&mut self, kind: Kind, parent: u32, path: u8) -> Result<u32, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                offset: self.pos,
                message: TOO_DEEP,
                limit: true,
            });
        }
        let (close, expected) = match kind {
            Kind::Object => (b'}', "expected `,` or `}`"),
            _ => (b']', "expected `,` or `]`"),
        };
        let line = self.line;
        let id = self.push(kind, self.pos, parent);
        self.pos += 1;
        self.skip_trivia()?;
        let mut last = NONE;
        let collapsing = kind == Kind::Array
            && self
                .collapse
                .as_ref()
                .is_some_and(|c| c.path.len() == path as usize);
        loop {
            match self.peek() {
                Some(b) if b == close => break,
                None => return Err(self.error("the file ends inside an object or array")),
                Some(_) => {}
            }
            if collapsing {
                self.collapsed_element(id)?;
            } else {
                let child = if kind == Kind::Object {
                    self.member(id, path)?
                } else {
                    self.value(id)?
                };
                self.link(id, last, child);
                last = child;
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_trivia()?;
                }
                Some(b) if b == close => break,
                None => return Err(self.error("the file ends inside an object or array")),
                Some(_) => return Err(self.error(expected)),
            }
        }
        self.pos += 1;
        self.finish(id, line);
        self.depth -= 1;
        Ok(id)
    }

    /// One element of a collapsed array at the cursor, parsed into its own tree (offsets
    /// into the whole text) and handed over.
    fn collapsed_element(&mut self, array: u32) -> Result<(), SyntaxError> {
        let Some(mut collapse) = self.collapse.take() else {
            return Err(self.error("internal: no collapsed array here"));
        };
        let mut sub = Parser::at(self.text, self.pos);
        sub.line = self.line;
        sub.depth = self.depth;
        sub.nodes = std::mem::take(&mut collapse.scratch);
        sub.nodes.clear();
        let root = sub.value(NONE);
        self.pos = sub.pos;
        self.line = sub.line;
        let tree = Tree {
            nodes: sub.nodes,
            root: root.as_ref().map_or(0, |&r| r),
        };
        if root.is_ok() {
            (collapse.element)(array, &tree);
        }
        collapse.scratch = tree.nodes;
        self.collapse = Some(collapse);
        root.map(|_| ())
    }

    /// `key: value` at the cursor, in an object `path` keys down the collapsed path.
    fn member(&mut self, parent: u32, path: u8) -> Result<u32, SyntaxError> {
        let key_start = self.pos;
        let line = self.line;
        let (style, escaped) = match self.peek() {
            Some(quote @ (b'"' | b'\'')) => {
                let escaped = self.string(quote)?;
                let style = if quote == b'"' {
                    KeyStyle::Double
                } else {
                    KeyStyle::Single
                };
                (style, escaped)
            }
            _ => (KeyStyle::Word, self.identifier()?),
        };
        self.skip_trivia()?;
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:` after the key"));
        }
        self.pos += 1;
        self.skip_trivia()?;
        self.path = self.path_below(path, key_start, escaped);
        let id = self.value(parent)?;
        let multiline = self.line > line;
        let node = &mut self.nodes[id as usize];
        node.key_start = key_start as u32;
        node.set_key(style, escaped);
        node.set(MULTILINE, multiline);
        Ok(id)
    }

    /// The path state of the value of the member whose key starts at `key_start`, in an
    /// object whose state is `path`.
    fn path_below(&self, path: u8, key_start: usize, escaped: bool) -> u8 {
        let Some(collapse) = &self.collapse else {
            return OFF_PATH;
        };
        let Some(&want) = collapse.path.get(path as usize) else {
            return OFF_PATH;
        };
        let node = Node {
            start: 0,
            end: 0,
            key_start: key_start as u32,
            next: NONE,
            parent: NONE,
            kind: Kind::Null,
            flags: match self.bytes[key_start] {
                b'\'' => KEY_SINGLE,
                b'"' => KEY_DOUBLE,
                _ => 0,
            } | if escaped { KEY_ESCAPED } else { 0 },
        };
        let raw = key_raw(self.text, &node);
        let matches = if escaped {
            decode(raw) == want
        } else {
            raw == want
        };
        if matches { path + 1 } else { OFF_PATH }
    }

    /// An ECMAScript 5.1 identifier name; returns whether it used `\u` escapes.
    pub(super) fn identifier(&mut self) -> Result<bool, SyntaxError> {
        // Fast path: plain ASCII keys (`contextWindow`) need no character decoding.
        if let Some(&b) = self.bytes.get(self.pos)
            && (b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        {
            let rest = &self.bytes[self.pos + 1..];
            let len = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
                .unwrap_or(rest.len());
            match rest.get(len) {
                Some(&b) if b < 0x80 && b != b'\\' => {
                    self.pos += 1 + len;
                    return Ok(false);
                }
                None => {
                    self.pos = self.bytes.len();
                    return Err(self.error("the file ends inside a key"));
                }
                _ => {}
            }
        }
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.error("the file ends inside a key"));
            };
            let first = self.pos == start;
            let (c, len) = if c == '\\' {
                if self.bytes.get(self.pos + 1) != Some(&b'u') {
                    return Err(self.error("invalid escape in a key"));
                }
                escaped = true;
                let save = self.pos;
                self.pos += 2;
                let decoded = self.unicode_escape()?;
                let len = self.pos - save;
                self.pos = save;
                (decoded, len)
            } else {
                (c, c.len_utf8())
            };
            let ok = if first {
                c.is_ascii_alphabetic()
                    || c == '$'
                    || c == '_'
                    || (!c.is_ascii() && json5::char::is_json5_identifier_start(c))
            } else {
                c.is_ascii_alphanumeric()
                    || c == '$'
                    || c == '_'
                    || (!c.is_ascii() && json5::char::is_json5_identifier(c))
            };
            if !ok {
                if first {
                    return Err(self.error("expected a key"));
                }
                return Ok(escaped);
            }
            self.pos += len;
        }
    }

    /// A string opened by `quote` at the cursor; returns whether it holds escapes.
    pub(super) fn string(&mut self, quote: u8) -> Result<bool, SyntaxError> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            // Fast path: plain bytes up to the next quote, backslash or line break.
            let rest = &self.bytes[self.pos..];
            let skip = rest
                .iter()
                .position(|&b| b == quote || b == b'\\' || b == b'\n' || b == b'\r');
            let Some(skip) = skip else {
                self.pos = self.bytes.len();
                return Err(self.error("the file ends inside a string"));
            };
            self.pos += skip;
            match self.bytes[self.pos] {
                b if b == quote => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    self.escape()?;
                }
                _ => return Err(self.error("line break inside a string (use \\n)")),
            }
        }
    }

    /// The escape after a backslash (ES5.1 §7.8.4, as `json5` reads it).
    fn escape(&mut self) -> Result<(), SyntaxError> {
        let Some(c) = self.peek_char() else {
            return Err(self.error("the file ends inside an escape"));
        };
        self.pos += c.len_utf8();
        match c {
            '\r' if self.peek() == Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
            }
            '\n' => self.line += 1,
            '0' if self.peek().is_some_and(|b| b.is_ascii_digit()) => {
                return Err(self.error("invalid escape"));
            }
            '1'..='9' => return Err(self.error("invalid escape")),
            'x' => {
                self.hex_digits(2)?;
            }
            'u' => {
                self.unicode_escape()?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `XXXX` (after `\u`), or a surrogate pair `XXXX\uXXXX`.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let a = self.hex_digits(4)?;
        if let Some(c) = char::from_u32(a) {
            return Ok(c);
        }
        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Err(self.error("invalid escape"));
        }
        self.pos += 2;
        let b = self.hex_digits(4)?;
        let mut chars = char::decode_utf16([a as u16, b as u16]);
        match (chars.next(), chars.next()) {
            (Some(Ok(c)), None) => Ok(c),
            _ => Err(self.error("invalid escape")),
        }
    }

    fn hex_digits(&mut self, n: usize) -> Result<u32, SyntaxError> {
        let mut value = 0;
        for _ in 0..n {
            match self.peek() {
                Some(b) if b.is_ascii_hexdigit() => {
                    value = value * 16 + (b as char).to_digit(16).unwrap_or(0);
                    self.pos += 1;
                }
                Some(_) => return Err(self.error("invalid escape")),
                None => return Err(self.error("the file ends inside an escape")),
            }
        }
        Ok(value)
    }

    /// A number as `json5` reads it (sign, `Infinity`, `NaN`, hex, decimal).
    fn number(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let neg = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                false
            }
            Some(b'-') => {
                self.pos += 1;
                true
            }
            _ => false,
        };
        let Some(first) = self.peek() else {
            return Err(self.error("the file ends inside a number"));
        };
        self.pos += 1;
        match first {
            b'I' => self.expect_str("nfinity"),
            b'N' => self.expect_str("aN"),
            b'0' => match self.peek() {
                Some(b'x' | b'X') => {
                    self.pos += 1;
                    self.hex_number(neg, start)
                }
                Some(b'.' | b'e' | b'E') => self.decimal(start),
                Some(b'0'..=b'9') => Err(SyntaxError {
                    offset: start,
                    message: "numbers cannot start with 0",
                    limit: false,
                }),
                _ => Ok(()),
            },
            b'.' | b'1'..=b'9' => self.decimal(start),
            _ => {
                self.pos -= 1;
                Err(self.error("expected a number"))
            }
        }
    }

    fn decimal(&mut self, start: usize) -> Result<(), SyntaxError> {
        while let Some(b'+' | b'-' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        // The same acceptance test as `json5`: the scanned text must parse as an integer
        // or a float (`1.5.5`, `1e` and `1-2` do not). Plain digits always do (a float
        // takes what overflows), which spares the common case any parsing.
        let raw = &self.text[start..self.pos];
        let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
        if digits.bytes().all(|b| b.is_ascii_digit()) || raw.parse::<f64>().is_ok() {
            Ok(())
        } else {
            Err(SyntaxError {
                offset: start,
                message: "invalid number",
                limit: false,
            })
        }
    }

    fn hex_number(&mut self, neg: bool, start: usize) -> Result<(), SyntaxError> {
        let digits = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        if self.pos == digits {
            return Err(self.error("expected hex digits"));
        }
        match hex_value(&self.text[digits..self.pos], neg) {
            Some(_) => Ok(()),
            None => Err(SyntaxError {
                offset: start,
                message: "number too large",
                limit: false,
            }),
        }
    }
}
