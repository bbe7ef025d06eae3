//! The 32-bit words of a replicate's ChaCha8 stream, for the bootstrap's uniform
//! picks ([`super::resample`]): the words `ChaCha8Rng::next_u32` would return from
//! where the generator stands, in the same order, and each pick made of them
//! exactly as `rand`'s `random_range` makes it.
//!
//! The words are made here, sixteen blocks of the stream at once, each of the
//! sixteen state words of the sixteen blocks side by side, so that every step
//! of ChaCha's rounds is one operation over sixteen lanes (one AVX-512
//! instruction where the processor has it, checked when the program runs);
//! `rand_chacha` makes four blocks at a time. ChaCha8 is four double rounds
//! over the state (constants, the 256-bit key, a 64-bit block counter, a 64-bit
//! stream number), each block's words added to the state it started from: the
//! same function of key, stream and counter, so the same words.

use rand_chacha::ChaCha8Rng;

/// Blocks of the stream made at once.
const LANES: usize = 16;
/// Words of a ChaCha block.
const BLOCK_WORDS: usize = 16;
/// Words made at once.
pub(super) const WORDS: usize = LANES * BLOCK_WORDS;

/// A ChaCha8 stream's words, made sixteen blocks at a time.
pub(super) struct Words {
    /// Word `w` of block `b` of those made last is `lanes[w][b]`.
    lanes: Box<[[u32; LANES]; BLOCK_WORDS]>,
    /// The next word to read, `0..WORDS` (`WORDS`: none left).
    pub(super) next: usize,
    key: [u32; 8],
    stream: u64,
    /// The block counter of the next blocks to make.
    block: u64,
}

impl Default for Words {
    fn default() -> Self {
        Words {
            lanes: Box::new([[0; LANES]; BLOCK_WORDS]),
            next: WORDS,
            key: [0; 8],
            stream: 0,
            block: 0,
        }
    }
}

impl Words {
    /// Reads on from where `rng` stands: the next word is the one
    /// `rng.next_u32()` would return. `rng` itself is not moved on.
    pub(super) fn restart(&mut self, rng: &ChaCha8Rng) {
        let seed = rng.get_seed();
        for (k, bytes) in self.key.iter_mut().zip(seed.chunks_exact(4)) {
            *k = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        self.stream = rng.get_stream();
        let at = rng.get_word_pos();
        // The counter is 64 bits and wraps, as the generator's.
        self.block = (at / BLOCK_WORDS as u128) as u64;
        self.refill();
        self.next = (at % BLOCK_WORDS as u128) as usize;
    }

    /// Where the next word stands in the stream, as `ChaCha8Rng::get_word_pos`
    /// counts (for `set_word_pos`, so that the generator reads on after the words
    /// read here).
    pub(super) fn position(&self) -> u128 {
        let made_from = self.block.wrapping_sub(LANES as u64);
        u128::from(made_from) * BLOCK_WORDS as u128 + self.next as u128
    }

    /// Makes the next sixteen blocks.
    fn refill(&mut self) {
        chacha8_blocks(&self.key, self.stream, self.block, &mut self.lanes);
        self.block = self.block.wrapping_add(LANES as u64);
        self.next = 0;
    }

    /// Word `at` (`0..WORDS`) of those made last.
    #[inline(always)]
    fn at(&self, at: usize) -> u32 {
        self.lanes[at % BLOCK_WORDS][at / BLOCK_WORDS]
    }

    #[inline(always)]
    fn word(&mut self) -> u32 {
        if self.next == WORDS {
            self.refill();
        }
        let word = self.at(self.next);
        self.next += 1;
        word
    }

    /// Tallies in `picks` up to `draws` picks of a row in `0..range` (as
    /// [`Words::below`] gives them) from the words made, while at least two are
    /// left (so that a pick's second word is there too); returns the number of
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
        let lanes: &[[u32; LANES]; BLOCK_WORDS] = &self.lanes;
        let word = |at: usize| lanes[at % BLOCK_WORDS][at / BLOCK_WORDS];
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
    pub(super) fn below(&mut self, range: u32) -> u32 {
        let wide = u64::from(self.word()) * u64::from(range);
        let (high, low) = ((wide >> 32) as u32, wide as u32);
        if low <= range.wrapping_neg() {
            return high;
        }
        let next = ((u64::from(self.word()) * u64::from(range)) >> 32) as u32;
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

/// Blocks `first..first + 16` of the ChaCha8 stream `stream` of `key` into
/// `lanes` (word `w` of block `first + b` at `lanes[w][b]`).
fn chacha8_blocks(
    key: &[u32; 8],
    stream: u64,
    first: u64,
    lanes: &mut [[u32; LANES]; BLOCK_WORDS],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the processor has AVX-512F, checked just above.
        unsafe { chacha8_avx512(key, stream, first, lanes) };
        return;
    }
    chacha8_lanes(key, stream, first, lanes);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn chacha8_avx512(
    key: &[u32; 8],
    stream: u64,
    first: u64,
    lanes: &mut [[u32; LANES]; BLOCK_WORDS],
) {
    chacha8_lanes(key, stream, first, lanes);
}

/// ChaCha's state words: "expand 32-byte k".
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[inline(always)]
fn chacha8_lanes(key: &[u32; 8], stream: u64, first: u64, lanes: &mut [[u32; LANES]; BLOCK_WORDS]) {
    let mut start = [[0u32; LANES]; BLOCK_WORDS];
    for b in 0..LANES {
        let counter = first.wrapping_add(b as u64);
        for (w, &c) in CONSTANTS.iter().enumerate() {
            start[w][b] = c;
        }
        for (w, &k) in key.iter().enumerate() {
            start[4 + w][b] = k;
        }
        start[12][b] = counter as u32;
        start[13][b] = (counter >> 32) as u32;
        start[14][b] = stream as u32;
        start[15][b] = (stream >> 32) as u32;
    }
    let mut x = start;
    for _ in 0..4 {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for ((out, x), start) in lanes.iter_mut().zip(&x).zip(&start) {
        for ((out, &x), &s) in out.iter_mut().zip(x).zip(start) {
            *out = x.wrapping_add(s);
        }
    }
}

/// ChaCha's quarter round on state words `a`, `b`, `c`, `d` of every lane.
#[inline(always)]
fn quarter_round(x: &mut [[u32; LANES]; BLOCK_WORDS], a: usize, b: usize, c: usize, d: usize) {
    let step = |x: &mut [[u32; LANES]; BLOCK_WORDS], a: usize, b: usize, d: usize, bits: u32| {
        for l in 0..LANES {
            x[a][l] = x[a][l].wrapping_add(x[b][l]);
            x[d][l] = (x[d][l] ^ x[a][l]).rotate_left(bits);
        }
    };
    step(x, a, b, d, 16);
    step(x, c, d, b, 12);
    step(x, a, b, d, 8);
    step(x, c, d, b, 7);
}

#[cfg(test)]
mod tests {
    use rand::{Rng, RngCore, SeedableRng};

    use super::*;

    #[test]
    fn the_words_are_those_of_the_generator_from_where_it_stands() {
        // Streams, seeds and places: the start, within a block, past the
        // generator's own buffer, and a counter about to carry into its high word.
        let places: [u128; 6] = [
            0,
            5,
            64 + 3,
            16 * 1000 + 15,
            16 * (u32::MAX as u128) - 7,
            16 * (u32::MAX as u128) + 3,
        ];
        for (seed, stream) in [(0u64, 0u64), (20_040_501, 1), (7, 1999), (3, u64::MAX)] {
            for &place in &places {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(stream);
                rng.set_word_pos(place);
                // A few draws through the generator first, as the binomials do.
                let _ = rng.next_u64();
                let _: f64 = rng.random();
                let mut words = Words::default();
                words.restart(&rng);
                let mut expected = rng.clone();
                for i in 0..3 * WORDS + 5 {
                    assert_eq!(
                        words.word(),
                        expected.next_u32(),
                        "seed {seed} stream {stream} place {place} word {i}"
                    );
                }
                rng.set_word_pos(words.position());
                assert_eq!(rng.next_u64(), expected.next_u64());
            }
        }
    }

    #[test]
    fn both_ways_of_making_the_words_agree() {
        let key = [1, 2, 3, 0xdead_beef, 5, 6, 7, u32::MAX];
        let (mut fast, mut plain) = ([[0; LANES]; BLOCK_WORDS], [[0; LANES]; BLOCK_WORDS]);
        chacha8_blocks(&key, 9, u64::MAX - 3, &mut fast);
        chacha8_lanes(&key, 9, u64::MAX - 3, &mut plain);
        assert_eq!(fast, plain);
    }

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
            let mut words = Words::default();
            words.restart(&expected_rng);
            for _ in 0..5000 {
                let expected = expected_rng.random_range(0..range as usize);
                assert_eq!(words.below(range) as usize, expected, "range {range}");
            }
        }
    }
}
