//! Shannon entropy, used to tell a random-looking value from a word or a placeholder.

/// The Shannon entropy of `value` in bits per byte (0 for an empty value).
pub fn shannon(value: &[u8]) -> f64 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &byte in value {
        counts[usize::from(byte)] += 1;
    }
    // Lengths stay far below 2^52, so the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let len = value.len() as f64;
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            #[allow(clippy::cast_precision_loss)]
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn a_repeated_byte_has_none_and_random_text_has_much() {
        assert!(shannon(b"aaaaaaaaaaaa") < 0.01);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-9);
        assert!(shannon(b"q8Zr1mXv4TbN7wKp2sLd9fHy") > 4.0);
    }
}
