//! Shopper contact details: parsed once at the boundary, trusted after.

/// A syntactically valid email address, kept as given but compared lower-case.
pub fn parse_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("an email address needs an @");
    };
    let valid = !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@');
    if valid {
        Ok(email.to_string())
    } else {
        Err("this is not a valid email address")
    }
}

/// A phone number: digits with optional leading `+` and separators, 6 to 15 digits.
pub fn parse_phone(raw: &str) -> Result<String, &'static str> {
    let phone = raw.trim();
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'));
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if allowed && (6..=15).contains(&digits) {
        Ok(phone.to_string())
    } else {
        Err("a phone number has 6 to 15 digits, optionally after a +")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(parse_email("marie.dupont@example.fr").is_ok());
        assert_eq!(parse_email("  a@b.co ").unwrap(), "a@b.co");
        for bad in [
            "",
            "marie",
            "@example.fr",
            "marie@",
            "marie@example",
            "ma rie@example.fr",
            "a@b@c.fr",
            "a@.fr",
        ] {
            assert!(parse_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn phones() {
        assert!(parse_phone("+33 6 12 34 56 78").is_ok());
        assert!(parse_phone("06.12.34.56.78").is_ok());
        for bad in ["12", "phone", "+33 6 12 34 56 78 90 12 34", "06-12-ab"] {
            assert!(parse_phone(bad).is_err(), "{bad} accepted");
        }
    }
}
