//! The generator's random stream: PCG-64 MCG (small, fast, with a
//! documented and stable output), with each 64-bit draw split in two for
//! the 32-bit draws that most of a body needs (presence rolls, picks from
//! short lists, small ranges). A body makes a few dozen draws, and each
//! draw is a 128-bit multiply on one dependency chain, so halving them is
//! most of the generator's speed.

use rand::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;

#[derive(Clone, Debug)]
pub struct Rng64 {
    pcg: Pcg64Mcg,
    /// The unused upper half of the last draw split for `next_u32`.
    spare: Option<u32>,
}

impl RngCore for Rng64 {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        match self.spare.take() {
            Some(half) => half,
            None => {
                let draw = self.pcg.next_u64();
                self.spare = Some((draw >> 32) as u32);
                draw as u32
            }
        }
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.pcg.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.pcg.fill_bytes(dest)
    }
}

impl SeedableRng for Rng64 {
    type Seed = <Pcg64Mcg as SeedableRng>::Seed;

    fn from_seed(seed: Self::Seed) -> Rng64 {
        Rng64 {
            pcg: Pcg64Mcg::from_seed(seed),
            spare: None,
        }
    }

    fn seed_from_u64(state: u64) -> Rng64 {
        Rng64 {
            pcg: Pcg64Mcg::seed_from_u64(state),
            spare: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_64_bit_draw_serves_two_32_bit_draws_low_half_first() {
        let mut whole = Pcg64Mcg::seed_from_u64(5);
        let mut split = Rng64::seed_from_u64(5);
        let a = whole.next_u64();
        let b = whole.next_u64();
        assert_eq!(split.next_u32(), a as u32);
        assert_eq!(split.next_u32(), (a >> 32) as u32);
        // A 64-bit draw does not use up a pending half.
        assert_eq!(split.next_u32(), b as u32);
        assert_eq!(split.next_u64(), whole.next_u64());
        assert_eq!(split.next_u32(), (b >> 32) as u32);
    }
}
