//! The most likely next tokens and their probabilities, as the worker last
//! saw them, for displays (the plugin's window): written by the worker,
//! read by anyone, without locks (a sequence counter guards each write).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::token::Token;

/// How many tokens are kept.
pub const NEXT_TOKENS: usize = 8;

/// The most likely next tokens, most likely first.
#[derive(Debug, Default)]
pub struct NextTokens {
    /// Odd while a write is under way.
    sequence: AtomicU64,
    /// Each: the token's code in the high 32 bits (0: none), the
    /// probability's bits in the low 32.
    entries: [AtomicU64; NEXT_TOKENS],
}

impl NextTokens {
    /// Publishes the most likely of `probabilities` (one per vocabulary
    /// index, `token` naming each). Does not allocate.
    pub fn publish(&self, probabilities: &[f32], token: impl Fn(usize) -> Option<Token>) {
        let mut best = [(0usize, f32::NEG_INFINITY); NEXT_TOKENS];
        for (index, &p) in probabilities.iter().enumerate() {
            if p > best[NEXT_TOKENS - 1].1 {
                let at = best.iter().position(|&(_, q)| p > q).unwrap_or(0);
                best.copy_within(at..NEXT_TOKENS - 1, at + 1);
                best[at] = (index, p);
            }
        }
        self.sequence.fetch_add(1, Ordering::AcqRel);
        for (entry, &(index, p)) in self.entries.iter().zip(&best) {
            let code = if p.is_finite() {
                token(index).map_or(0, |t| u64::from(t.code()))
            } else {
                0
            };
            entry.store(
                code << 32 | u64::from(p.max(0.0).to_bits()),
                Ordering::Relaxed,
            );
        }
        self.sequence.fetch_add(1, Ordering::Release);
    }

    /// The tokens and probabilities last published, most likely first
    /// (empty before the first), read consistently.
    pub fn read(&self) -> Vec<(Token, f32)> {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let entries: Vec<u64> = self
                .entries
                .iter()
                .map(|e| e.load(Ordering::Relaxed))
                .collect();
            std::sync::atomic::fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return entries
                    .into_iter()
                    .filter_map(|e| {
                        let token = Token::from_code((e >> 32) as u32)?;
                        Some((token, f32::from_bits(e as u32)))
                    })
                    .collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_likely_come_first_with_their_probabilities() {
        let tokens: Vec<Token> = (60..72).map(Token::Note).collect();
        let probabilities = [
            0.01, 0.3, 0.05, 0.2, 0.0, 0.1, 0.04, 0.15, 0.02, 0.03, 0.06, 0.04,
        ];
        let next = NextTokens::default();
        assert!(next.read().is_empty());
        next.publish(&probabilities, |i| tokens.get(i).copied());
        let read = next.read();
        assert_eq!(read.len(), NEXT_TOKENS);
        let keys: Vec<Token> = read.iter().map(|&(t, _)| t).collect();
        assert_eq!(
            &keys[..4],
            &[
                Token::Note(61),
                Token::Note(63),
                Token::Note(67),
                Token::Note(65)
            ]
        );
        assert_eq!(read[0].1, 0.3);
        assert!(read.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}
