//! What the thank-you page shows right after an answer is sent. The form posts,
//! then redirects to `/s/{token}/thanks` (so that a refresh does not send it again),
//! and that page needs the answer as it was received: an answer that waits in the
//! answer inbox, or an anonymous one, cannot be read back from the database.
//! Receipts live in this process's memory for a few minutes, bounded in number;
//! without one the thank-you page falls back to what the database holds.
//! This room keeps receipts; it does not render or store answers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::invite::Token;

/// How long a receipt is kept after the answer was sent.
pub const RECEIPT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The most receipts kept at once (each at most M problems of 1,000 characters).
pub const MAX_RECEIPTS: usize = 10_000;

#[derive(Default)]
pub struct Receipts {
    /// By the token's hash, so the memory holds no usable link.
    kept: Mutex<HashMap<String, (Instant, Answer)>>,
}

impl Receipts {
    /// Keeps `answer` for the thank-you page of `token`'s link.
    pub fn keep(&self, token: &Token, answer: &Answer) {
        let now = Instant::now();
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|_, (at, _)| now.duration_since(*at) < RECEIPT_LIFETIME);
        if kept.len() >= MAX_RECEIPTS {
            // Full of fresh receipts: the oldest goes; its page falls back.
            if let Some(oldest) = kept
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            {
                kept.remove(&oldest);
            }
        }
        kept.insert(token.hash(), (now, answer.clone()));
    }

    /// The answer just sent with `token`'s link, if still kept. `take` removes it
    /// (an anonymous answer is shown once and then forgotten).
    pub fn find(&self, token: &Token, take: bool) -> Option<Answer> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let key = token.hash();
        let fresh = kept
            .get(&key)
            .is_some_and(|(at, _)| at.elapsed() < RECEIPT_LIFETIME);
        if !fresh {
            kept.remove(&key);
            return None;
        }
        if take {
            kept.remove(&key).map(|(_, answer)| answer)
        } else {
            kept.get(&key).map(|(_, answer)| answer.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_is_found_by_its_link_and_taken_once_when_asked() {
        let receipts = Receipts::default();
        let (mine, other) = (Token::generate(), Token::generate());
        receipts.keep(&mine, &Answer::NoProblems);
        assert_eq!(receipts.find(&other, false), None);
        assert_eq!(receipts.find(&mine, false), Some(Answer::NoProblems));
        assert_eq!(receipts.find(&mine, true), Some(Answer::NoProblems));
        assert_eq!(receipts.find(&mine, false), None, "taken");
    }
}
