//! Assertions shared by the kernel tests: NaN-aware comparison to 1e-9.

pub(super) const TOLERANCE: f64 = 1e-9;

/// Asserts `actual` equals `expected` element-wise, NaN matching NaN only.
#[track_caller]
pub(super) fn assert_series(actual: &[f64], expected: &[f64]) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "length differs: {actual:?} vs {expected:?}"
    );
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let same = if e.is_nan() {
            a.is_nan()
        } else {
            (a - e).abs() <= TOLERANCE
        };
        assert!(
            same,
            "index {i}: got {a}, expected {e}\nactual:   {actual:?}\nexpected: {expected:?}"
        );
    }
}

pub(super) const NAN: f64 = f64::NAN;
