//! The 32-bit words of a replicate's ChaCha8 stream, for the bootstrap's uniform
//! picks ([`super::resample`]): the words `ChaCha8Rng::next_u32` would return, in
//! the same order (the stream is one sequence of words, however it is read), read
//! a block at a time, and each pick made of them exactly as `rand`'s
//! `random_range` makes it.

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// Words of the stream read at once.
pub(super) const WORDS: usize = 512;

/// A ChaCha8 stream's 32-bit words, read a block at a time.
pub(super) struct Words {
    block: Box<[u8; 4 * WORDS]>,
    /// The next word to read, `0..WORDS` (`WORDS`: none left).
    pub(super) next: usize,
}

impl Default for Words {
    fn default() -> Self {
        Words {
            block: Box::new([0; 4 * WORDS]),
            next: WORDS,
        }
    }
}

impl Words {
    /// Forgets the words read so far: the next word comes from the stream.
    pub(super) fn restart(&mut self) {
        self.next = WORDS;
    }

    #[inline(always)]
    fn word(&mut self, rng: &mut ChaCha8Rng) -> u32 {
        if self.next == WORDS {
            rng.fill_bytes(&mut self.block[..]);
            self.next = 0;
        }
        let word = self.at(self.next);
        self.next += 1;
        word
    }

    /// Word `at` of the block.
    #[inline(always)]
    fn at(&self, at: usize) -> u32 {
        let bytes = &self.block[4 * at..4 * at + 4];
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// Tallies in `picks` up to `draws` picks of a row in `0..range` (as
    /// [`Words::below`] gives them) from the words of the block, while at least two
    /// are left (so that a pick's second word is there too); returns the number of
    /// picks. A function of its own, with the words, the place among them and
    /// the tallies apart, so that the loop keeps everything in registers (a byte
    /// stored through a pointer that might alias them would make it read them
    /// again from memory after every pick).
    #[inline(never)]
    pub(super) fn tally_in_block(
        &mut self,
        range: u32,
        draws: u64,
        picks: &mut [u8],
        full: &mut Vec<u32>,
    ) -> u64 {
        let block: &[u8; 4 * WORDS] = &self.block;
        let word = |at: usize| {
            let bytes = &block[4 * at..4 * at + 4];
            u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
        };
        let biased = range.wrapping_neg();
        let mut next = self.next;
        let mut done = 0;
        while done < draws && next + 1 < WORDS {
            let wide = u64::from(word(next)) * u64::from(range);
            next += 1;
            let (mut row, low) = ((wide >> 32) as u32, wide as u32);
            if low > biased {
                let second = ((u64::from(word(next)) * u64::from(range)) >> 32) as u32;
                next += 1;
                row += u32::from(low.checked_add(second).is_none());
            }
            tally(picks, row, full);
            done += 1;
        }
        self.next = next;
        done
    }

    /// A uniform number in `0..range` (`range > 0`), computed from the words
    /// exactly as rand 0.9's `random_range(0..range)` computes it for a `usize`
    /// range below 2^32: the high half of word * range, and when the low half
    /// falls in the biased zone, one more word decides a carry (Canon's method).
    #[inline(always)]
    pub(super) fn below(&mut self, range: u32, rng: &mut ChaCha8Rng) -> u32 {
        let wide = u64::from(self.word(rng)) * u64::from(range);
        let (high, low) = ((wide >> 32) as u32, wide as u32);
        if low <= range.wrapping_neg() {
            return high;
        }
        let next = ((u64::from(self.word(rng)) * u64::from(range)) >> 32) as u32;
        high + u32::from(low.checked_add(next).is_none())
    }
}

/// Counts a pick of `row` in its byte; a byte that reaches 255 starts again at
/// zero and the row goes in `full` (its 255 picks are added apart).
#[inline(always)]
pub(super) fn tally(picks: &mut [u8], row: u32, full: &mut Vec<u32>) {
    let count = &mut picks[row as usize];
    *count += 1;
    if *count == u8::MAX {
        *count = 0;
        full.push(row);
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn words_give_the_numbers_random_range_gives() {
        // Ranges near 2^32 land in the biased zone half the time, so the second
        // word (and its carry) is exercised as well as the common path.
        let ranges = [
            1,
            2,
            3,
            7,
            1000,
            223_080,
            1 << 31,
            (1 << 31) + 1,
            u32::MAX - 4,
            u32::MAX,
        ];
        for (seed, &range) in ranges.iter().enumerate() {
            let mut expected_rng = ChaCha8Rng::seed_from_u64(seed as u64);
            expected_rng.set_stream(5);
            let mut rng = expected_rng.clone();
            let mut words = Words::default();
            for _ in 0..5000 {
                let expected = expected_rng.random_range(0..range as usize);
                assert_eq!(
                    words.below(range, &mut rng) as usize,
                    expected,
                    "range {range}"
                );
            }
        }
    }
}
