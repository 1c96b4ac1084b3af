//! Interleaved rounds. On a shared machine the load drifts over a run: if
//! synack moved its gigabyte in one stretch and smoltcp in the next, the
//! ratio would say as much about the neighbours as about the stacks. So a
//! row runs [`ROUNDS`] rounds, each stack doing the row's whole
//! measurement once per round, taking turns, and each figure is the median
//! of its rounds.

/// How many turns each stack takes.
pub const ROUNDS: u32 = 3;

/// Runs every measurement [`ROUNDS`] times, taking turns, and returns the
/// median of each (`None` if any of its rounds gave none).
pub fn interleaved<const N: usize>(runs: [&dyn Fn() -> Option<f64>; N]) -> [Option<f64>; N] {
    let mut seen: [Vec<Option<f64>>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..ROUNDS {
        for (run, out) in runs.iter().zip(seen.iter_mut()) {
            out.push(run());
        }
    }
    seen.map(|rounds| median(&rounds))
}

fn median(rounds: &[Option<f64>]) -> Option<f64> {
    let mut v: Vec<f64> = rounds.iter().copied().collect::<Option<_>>()?;
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn turns_alternate_and_medians_are_taken() {
        let order = std::cell::RefCell::new(Vec::new());
        let a_vals = Cell::new(0);
        let a = || {
            order.borrow_mut().push('a');
            a_vals.set(a_vals.get() + 1);
            Some([5.0, 1.0, 3.0][a_vals.get() - 1])
        };
        let b = || {
            order.borrow_mut().push('b');
            None
        };
        let [ma, mb] = interleaved([&a, &b]);
        assert_eq!(ma, Some(3.0));
        assert_eq!(mb, None);
        assert_eq!(order.into_inner(), ['a', 'b', 'a', 'b', 'a', 'b']);
    }
}
