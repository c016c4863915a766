//! The vocabulary: every token the model knows, sorted by text, with its index.
//!
//! Sorting by text is the seed's `sorted(set(notes))`; the sorted list is
//! stored in the weights file and never rebuilt from a corpus at load time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::token::{Token, TokenParseError};

/// A sorted set of tokens with token ↔ index lookup.
///
/// Serialises as the list of token texts in index order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Vocab {
    tokens: Vec<Token>,
    index: HashMap<Token, usize>,
}

/// Why a list of token texts is not a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabError {
    /// A text that is not a token.
    #[error("vocabulary entry {position} is not a token")]
    BadToken {
        /// Index of the entry.
        position: usize,
        /// What is wrong with it.
        source: TokenParseError,
    },
    /// An entry that is not in canonical text form (a chord out of normal order).
    #[error("vocabulary entry {position} `{text}` is not canonical (expected `{canonical}`)")]
    NotCanonical {
        /// Index of the entry.
        position: usize,
        /// The text found.
        text: String,
        /// The canonical text of the same token.
        canonical: String,
    },
    /// Entries out of sorted order, or repeated.
    #[error("vocabulary is not sorted and unique at entry {position} (`{previous}` then `{text}`)")]
    NotSorted {
        /// Index of the entry.
        position: usize,
        /// The entry before it.
        previous: String,
        /// The entry itself.
        text: String,
    },
    /// No entries at all.
    #[error("vocabulary is empty")]
    Empty,
}

impl Vocab {
    /// The vocabulary of all distinct tokens in `tokens`, sorted by text.
    pub fn from_tokens(tokens: impl IntoIterator<Item = Token>) -> Self {
        let mut keyed: Vec<(String, Token)> = tokens
            .into_iter()
            .map(|token| (token.to_string(), token))
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        Self::from_sorted(keyed.into_iter().map(|(_, token)| token).collect())
    }

    /// Reads a vocabulary written by [`Vocab::texts`]: canonical token
    /// texts, sorted and unique.
    pub fn from_texts<S: AsRef<str>>(texts: &[S]) -> Result<Self, VocabError> {
        if texts.is_empty() {
            return Err(VocabError::Empty);
        }
        let mut tokens = Vec::with_capacity(texts.len());
        for (position, text) in texts.iter().enumerate() {
            let text = text.as_ref();
            let token: Token = text
                .parse()
                .map_err(|source| VocabError::BadToken { position, source })?;
            let canonical = token.to_string();
            if canonical != text {
                return Err(VocabError::NotCanonical {
                    position,
                    text: text.to_string(),
                    canonical,
                });
            }
            if position > 0 && texts[position - 1].as_ref() >= text {
                return Err(VocabError::NotSorted {
                    position,
                    previous: texts[position - 1].as_ref().to_string(),
                    text: text.to_string(),
                });
            }
            tokens.push(token);
        }
        Ok(Self::from_sorted(tokens))
    }

    fn from_sorted(tokens: Vec<Token>) -> Self {
        let index = tokens.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        Self { tokens, index }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The index of `token`, if the vocabulary has it.
    pub fn index_of(&self, token: Token) -> Option<usize> {
        self.index.get(&token).copied()
    }

    /// The token at `index`.
    pub fn token(&self, index: usize) -> Option<Token> {
        self.tokens.get(index).copied()
    }

    /// All tokens in index order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The token texts in index order (the serialised form).
    pub fn texts(&self) -> Vec<String> {
        self.tokens.iter().map(Token::to_string).collect()
    }
}

impl TryFrom<Vec<String>> for Vocab {
    type Error = VocabError;

    fn try_from(texts: Vec<String>) -> Result<Self, Self::Error> {
        Self::from_texts(&texts)
    }
}

impl From<Vocab> for Vec<String> {
    fn from(vocab: Vocab) -> Self {
        vocab.texts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(texts: &[&str]) -> Vec<Token> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn sorted_by_text_and_deduplicated() {
        let vocab = Vocab::from_tokens(tokens(&["E5", "4.9", "C#4", "E5", "11.2", "0"]));
        assert_eq!(vocab.texts(), ["0", "11.2", "4.9", "C#4", "E5"]);
        let e5 = "E5".parse().unwrap();
        assert_eq!(vocab.index_of(e5), Some(4));
        assert_eq!(vocab.token(4), Some(e5));
        assert_eq!(vocab.token(5), None);
        assert_eq!(vocab.index_of("F5".parse().unwrap()), None);
    }

    #[test]
    fn json_round_trip() {
        let vocab = Vocab::from_tokens(tokens(&["A4", "B-3", "9.0.4"]));
        let json = serde_json::to_string(&vocab).unwrap();
        assert_eq!(json, r#"["9.0.4","A4","B-3"]"#);
        let back: Vocab = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vocab);
    }

    #[test]
    fn bad_lists_are_refused() {
        assert_eq!(Vocab::from_texts::<&str>(&[]), Err(VocabError::Empty));
        assert!(matches!(
            Vocab::from_texts(&["A4", "A4"]),
            Err(VocabError::NotSorted { position: 1, .. })
        ));
        assert!(matches!(
            Vocab::from_texts(&["B4", "A4"]),
            Err(VocabError::NotSorted { position: 1, .. })
        ));
        assert!(matches!(
            Vocab::from_texts(&["0.4.9"]),
            Err(VocabError::NotCanonical { .. })
        ));
        assert!(matches!(
            Vocab::from_texts(&["A4", "Q"]),
            Err(VocabError::BadToken { position: 1, .. })
        ));
        assert!(serde_json::from_str::<Vocab>(r#"["B4","A4"]"#).is_err());
    }
}
