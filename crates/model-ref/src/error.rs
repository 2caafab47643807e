//! Parse errors: which part of a ref is wrong, at which byte, and what to type instead.

use std::fmt;

/// A ref that does not follow the grammar, with the byte offset of the first problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    input: String,
    offset: usize,
    kind: ParseErrorKind,
}

/// What is wrong with a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is empty.
    Empty,
    /// No `/` separates provider and model.
    MissingSlash,
    /// Nothing before the first `/`.
    EmptyProvider,
    /// The provider has upper-case letters.
    ProviderCase {
        /// The provider in lower case.
        lower: String,
    },
    /// Nothing after `huggingface/` (or after `org/`).
    EmptyModel,
    /// The organisation before `/` is empty.
    EmptyOrg,
    /// `huggingface/huggingface/…`.
    DoubledPrefix {
        /// The ref with one prefix.
        suggestion: String,
    },
    /// A character the grammar does not allow in this part.
    InvalidChar {
        /// The offending character.
        found: char,
        /// The part being read: `provider`, `model id` or `suffix`.
        part: &'static str,
    },
    /// A segment starts or ends with `.`.
    EdgeDot,
    /// A segment contains `..`.
    DoubleDot,
    /// More than `org/name` after the provider.
    TooManySegments,
    /// A second `:` after the suffix.
    TwoSuffixes,
    /// Nothing after `:`.
    EmptySuffix,
    /// The suffix has upper-case letters.
    SuffixCase {
        /// The suffix as written.
        found: String,
        /// The suffix in lower case.
        lower: String,
    },
}

impl ParseError {
    pub(crate) fn new(input: &str, offset: usize, kind: ParseErrorKind) -> ParseError {
        ParseError {
            input: input.to_owned(),
            offset,
            kind,
        }
    }

    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Byte offset of the first problem in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// A ref the user probably meant, when one can be derived from the input.
    pub fn suggestion(&self) -> Option<String> {
        let at = self.offset.min(self.input.len());
        match &self.kind {
            ParseErrorKind::DoubledPrefix { suggestion } => Some(suggestion.clone()),
            ParseErrorKind::ProviderCase { lower } => {
                let slash = self.input.find('/')?;
                Some(format!("{lower}{}", &self.input[slash..]))
            }
            ParseErrorKind::SuffixCase { found, lower } => {
                let start = at.checked_sub(first_upper(found)?)?;
                let mut fixed = self.input.clone();
                fixed.replace_range(start..start + found.len(), lower);
                Some(fixed)
            }
            _ => None,
        }
    }

    /// One line telling the user what to do instead.
    pub fn hint(&self) -> String {
        if let Some(suggestion) = self.suggestion() {
            return format!("did you mean \"{suggestion}\"?");
        }
        match &self.kind {
            ParseErrorKind::EmptySuffix | ParseErrorKind::TwoSuffixes => {
                "use one suffix: :fastest, :cheapest, :preferred or a provider name such as :together"
                    .to_owned()
            }
            _ => "a ref looks like huggingface/<org>/<model>[:fastest|:cheapest|:preferred|:<provider>]"
                .to_owned(),
        }
    }
}

fn first_upper(text: &str) -> Option<usize> {
    text.bytes().position(|b| b.is_ascii_uppercase())
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::Empty => f.write_str("empty model ref"),
            ParseErrorKind::MissingSlash => f.write_str("missing '/' between provider and model"),
            ParseErrorKind::EmptyProvider => f.write_str("empty provider before '/'"),
            ParseErrorKind::ProviderCase { lower } => {
                write!(f, "provider must be lower-case (\"{lower}\")")
            }
            ParseErrorKind::EmptyModel => f.write_str("empty model name after \"huggingface/\""),
            ParseErrorKind::EmptyOrg => f.write_str("empty organisation before '/'"),
            ParseErrorKind::DoubledPrefix { .. } => f.write_str("doubled \"huggingface/\" prefix"),
            ParseErrorKind::InvalidChar { found, part } => {
                write!(f, "character {found:?} is not allowed in the {part}")
            }
            ParseErrorKind::EdgeDot => f.write_str("a name part cannot start or end with '.'"),
            ParseErrorKind::DoubleDot => f.write_str("'..' is not allowed in a model id"),
            ParseErrorKind::TooManySegments => {
                f.write_str("too many '/': a Hugging Face model id is <org>/<model>")
            }
            ParseErrorKind::TwoSuffixes => f.write_str("two ':' suffixes"),
            ParseErrorKind::EmptySuffix => f.write_str("empty suffix after ':'"),
            ParseErrorKind::SuffixCase { found, .. } => {
                write!(f, "suffix \"{found}\" must be lower-case")
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid model ref \"{}\": {} (at byte {})",
            self.input, self.kind, self.offset
        )
    }
}

impl std::error::Error for ParseError {}
