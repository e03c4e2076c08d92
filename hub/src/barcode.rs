//! EAN-13 barcodes as SVG for the preparation slip, so the till can scan the
//! printed sheet. About forty lines of tables; no crate did plain SVG bars
//! without pulling in an image stack.

/// Left-hand odd-parity ("L") patterns per digit; "R" is their complement
/// and "G" the reverse of "R" (GS1 General Specifications, EAN-13).
const L_CODES: [u8; 10] = [
    0b0001101, 0b0011001, 0b0010011, 0b0111101, 0b0100011, 0b0110001, 0b0101111, 0b0111011,
    0b0110111, 0b0001011,
];

/// For each first digit, which of the six left digits use "G" (bit 5 = second digit).
const PARITY: [u8; 10] = [
    0b000000, 0b001011, 0b001101, 0b001110, 0b010011, 0b011001, 0b011100, 0b010101, 0b010110,
    0b011010,
];

fn bits7(pattern: u8) -> impl Iterator<Item = bool> {
    (0..7).rev().map(move |i| pattern >> i & 1 == 1)
}

/// The check digit of an EAN-13's first twelve digits (weights 1 and 3).
pub fn check_digit(first_twelve: &[u32]) -> u32 {
    let sum: u32 = first_twelve
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10
}

/// Whether `code` is 13 digits with a right check digit.
pub fn is_ean13(code: &str) -> bool {
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    digits.len() == 13 && code.len() == 13 && check_digit(&digits[..12]) == digits[12]
}

/// The 95 modules of an EAN-13 symbol, true = bar; None if `code` is not one.
pub fn ean13_modules(code: &str) -> Option<Vec<bool>> {
    if !is_ean13(code) {
        return None;
    }
    let digits: Vec<usize> = code.bytes().map(|b| usize::from(b - b'0')).collect();
    let mut modules = Vec::with_capacity(95);
    modules.extend([true, false, true]);
    for (position, digit) in digits[1..7].iter().enumerate() {
        let uses_g = PARITY[digits[0]] >> (5 - position) & 1 == 1;
        let left = L_CODES[*digit];
        if uses_g {
            // G = R reversed, R = L complemented.
            let right = !left & 0x7f;
            let reversed = (0..7).fold(0u8, |acc, i| acc << 1 | (right >> i & 1));
            modules.extend(bits7(reversed));
        } else {
            modules.extend(bits7(left));
        }
    }
    modules.extend([false, true, false, true, false]);
    for digit in &digits[7..] {
        modules.extend(bits7(!L_CODES[*digit] & 0x7f));
    }
    modules.extend([true, false, true]);
    Some(modules)
}

/// An SVG of the barcode with its digits below, or None if `code` is not an
/// EAN-13 (the slip then shows the code as text).
pub fn ean13_svg(code: &str) -> Option<String> {
    let modules = ean13_modules(code)?;
    // Quiet zones of 11 and 7 modules, as scanners need.
    let width = 11 + 95 + 7;
    let mut bars = String::new();
    let mut x = 0;
    while x < modules.len() {
        if modules[x] {
            let start = x;
            while x < modules.len() && modules[x] {
                x += 1;
            }
            bars.push_str(&format!(
                "M{},0h{}v50h-{}z",
                start + 11,
                x - start,
                x - start
            ));
        } else {
            x += 1;
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"barcode\" viewBox=\"0 0 {width} 60\" role=\"img\" \
aria-label=\"EAN {code}\" shape-rendering=\"crispEdges\"><rect width=\"{width}\" height=\"60\" fill=\"#fff\"/>\
<path d=\"{bars}\" fill=\"#000\"/><text x=\"{mid}\" y=\"59\" font-size=\"9\" font-family=\"monospace\" \
text-anchor=\"middle\">{code}</text></svg>",
        mid = width / 2
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written out from the standard's tables, not derived as the code does.
    const G_CODES: [&str; 10] = [
        "0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001",
        "0001001", "0010111",
    ];
    const R_CODES: [&str; 10] = [
        "1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100",
        "1001000", "1110100",
    ];
    const L_TEXT: [&str; 10] = [
        "0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011",
        "0110111", "0001011",
    ];
    const PARITY_TEXT: [&str; 10] = [
        "LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL",
        "LGGLGL",
    ];

    /// Reads the symbol back with the written-out tables.
    fn decode(modules: &[bool]) -> String {
        let text: String = modules.iter().map(|b| if *b { '1' } else { '0' }).collect();
        assert_eq!(text.len(), 95);
        assert_eq!(&text[..3], "101");
        assert_eq!(&text[45..50], "01010");
        assert_eq!(&text[92..], "101");
        let mut parity = String::new();
        let mut digits = String::new();
        for i in 0..6 {
            let chunk = &text[3 + i * 7..10 + i * 7];
            if let Some(d) = L_TEXT.iter().position(|c| *c == chunk) {
                parity.push('L');
                digits.push(char::from(b'0' + d as u8));
            } else {
                let d = G_CODES
                    .iter()
                    .position(|c| *c == chunk)
                    .expect("an L or G code");
                parity.push('G');
                digits.push(char::from(b'0' + d as u8));
            }
        }
        for i in 0..6 {
            let chunk = &text[50 + i * 7..57 + i * 7];
            let d = R_CODES.iter().position(|c| *c == chunk).expect("an R code");
            digits.push(char::from(b'0' + d as u8));
        }
        let first = PARITY_TEXT.iter().position(|p| *p == parity).unwrap();
        format!("{first}{digits}")
    }

    #[test]
    fn encodes_and_reads_back() {
        for code in [
            "4006381333931",
            "3017620422003",
            "9780201379624",
            "0012345678905",
        ] {
            assert!(is_ean13(code), "{code}");
            assert_eq!(decode(&ean13_modules(code).unwrap()), code);
        }
    }

    #[test]
    fn refuses_what_is_not_an_ean13() {
        for code in [
            "4006381333932",
            "400638133393",
            "ABCDEFGHIJKLM",
            "40063813339310",
            "",
        ] {
            assert!(ean13_svg(code).is_none(), "{code}");
        }
    }

    #[test]
    fn the_svg_draws_every_bar_module() {
        let svg = ean13_svg("4006381333931").unwrap();
        let path = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        let drawn: usize = path
            .split('h')
            .skip(1)
            .step_by(2)
            .map(|part| part.split('v').next().unwrap().parse::<usize>().unwrap())
            .sum();
        let bars = ean13_modules("4006381333931")
            .unwrap()
            .iter()
            .filter(|b| **b)
            .count();
        assert_eq!(drawn, bars);
    }
}
