//! A small, fast, seedable pseudo-random number generator.
//!
//! [`Rng`] is xoshiro256** (Blackman and Vigna), seeded through splitmix64.
//! It is not cryptographic; it is here so that every simulation is a pure
//! function of its seed. Independent *streams* are derived from one seed and
//! a stream number with [`Rng::stream`]: the network gives every link (and
//! every impairment of every link) its own stream, so adding a host, a tap or
//! an impairment elsewhere never changes the draws of an existing link.

/// One step of splitmix64: advances `state` and returns a well-mixed value.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic xoshiro256** generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator seeded from `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut sm);
        }
        // splitmix64 is a bijection of a counter, so four consecutive outputs
        // are never all zero; xoshiro's only forbidden state cannot occur.
        Rng { s }
    }

    /// The generator of stream number `stream` of `seed`.
    ///
    /// Streams of one seed are statistically independent of each other, and
    /// `Rng::stream(seed, 0)` differs from `Rng::new(seed)`.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        Rng::new(derive_seed(seed, stream))
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform `f64` in `[0, 1)`, with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`. `p <= 0` is always `false` and `p >= 1`
    /// always `true`; both still consume one draw, so that the number of
    /// draws does not depend on `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A uniform integer in `[0, n)`; `0` when `n == 0`.
    ///
    /// Unbiased (Lemire's multiply-and-reject method).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// A seed for sub-stream `stream` of `seed`: a mixing function of both, so
/// that nearby seeds and nearby stream numbers give unrelated results.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut a = seed ^ 0x5EED_5EED_5EED_5EED;
    let mut b = stream ^ 0xA5A5_0F0F_3C3C_9696;
    let x = splitmix64(&mut a);
    let y = splitmix64(&mut b);
    let mut z = x ^ y.rotate_left(17);
    splitmix64(&mut z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = Rng::new(43);
        assert_ne!(Rng::new(42).next_u64(), c.next_u64());
    }

    #[test]
    fn known_answers() {
        // splitmix64's published first output for state 0.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
        // xoshiro256** reference outputs for the state [1, 2, 3, 4].
        let mut r = Rng { s: [1, 2, 3, 4] };
        let first: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(first, [11520, 0, 1509978240, 1215971899390074240]);
    }

    #[test]
    fn streams_differ() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..8 {
            for stream in 0..64 {
                assert!(seen.insert(Rng::stream(seed, stream).next_u64()));
            }
        }
        assert_ne!(Rng::stream(7, 0).next_u64(), Rng::new(7).next_u64());
    }

    #[test]
    fn f64_in_unit_interval_and_mean() {
        let mut r = Rng::new(1);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            sum += x;
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = Rng::new(2);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            let x = r.below(10);
            counts[x as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
        let _ = r.below(u64::MAX);
    }

    #[test]
    fn chance_extremes() {
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            assert!(!r.chance(0.0));
            assert!(r.chance(1.0));
        }
    }
}
