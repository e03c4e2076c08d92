//! Random identifiers shown to people (reservation numbers) and secrets put
//! in links (tracking and validation tokens).

use rand::Rng;

/// Crockford's base 32: no I, L, O or U, so a number read aloud at the till
/// cannot be misheard as another.
const NUMBER_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A reservation number like `K7Q4-MZ2P`: 40 random bits, easy to read out.
pub fn reservation_number() -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            out.push('-');
        }
        let index = rng.random_range(0..NUMBER_ALPHABET.len());
        out.push(char::from(NUMBER_ALPHABET[index]));
    }
    out
}

/// Normalises what a person typed: upper case, common misreadings mapped.
pub fn normalise_number(typed: &str) -> String {
    let compact: String = typed
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if compact.len() == 8 {
        format!("{}-{}", &compact[..4], &compact[4..])
    } else {
        typed.trim().to_ascii_uppercase()
    }
}

/// 128 random bits, hex: for capability links (tracking, validation).
pub fn secret_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_readable_and_normalise_back() {
        for _ in 0..100 {
            let number = reservation_number();
            assert_eq!(number.len(), 9);
            assert!(!number.contains(['I', 'L', 'O', 'U']));
            assert_eq!(
                normalise_number(&number.to_lowercase().replace('-', " ")),
                number
            );
        }
        assert_eq!(normalise_number("k7qo mz2p"), "K7Q0-MZ2P");
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = secret_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, secret_token());
    }
}
